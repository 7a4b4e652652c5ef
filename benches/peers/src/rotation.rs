//! Sampling the engines in rotation — A B C A B C … — so that whatever one
//! engine leaves in the caches hits the next one alike.
//!
//! Each round visits every engine once, in table order. On its turn an
//! engine is timed twice:
//!
//! - **interleaved**: its first call, right after the previous engine ran
//!   (for the first engine, after the last one of the previous round). This
//!   is what a service that does other work between decisions sees;
//! - **hot**: then a batch of calls (about 100 µs of them), per call. Its
//!   own data is now cached: this is the figure a criterion loop gives.
//!
//! The medians over the rounds of both come from the same run, so their
//! ratios can be compared.

use std::time::{Duration, Instant};

use crate::Body;

/// One engine's medians, in ns.
#[derive(Clone, Copy, Debug)]
pub struct Medians {
    pub hot: f64,
    pub interleaved: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Run the bodies in rotation for about `budget` (at least `min_rounds`
/// rounds); return each body's medians, in the bodies' order.
pub fn rotate(
    bodies: &mut [(&'static str, Body)],
    budget: Duration,
    min_rounds: usize,
) -> Vec<Medians> {
    // Size each engine's hot batch from a short warm-up.
    let batch: Vec<u32> = bodies
        .iter_mut()
        .map(|(_, body)| {
            body();
            let t = Instant::now();
            for _ in 0..3 {
                body();
            }
            let per = t.elapsed().as_secs_f64() / 3.0;
            (100e-6 / per.max(1e-9)).clamp(1.0, 10_000.0) as u32
        })
        .collect();
    let mut hot: Vec<Vec<f64>> = vec![Vec::new(); bodies.len()];
    let mut interleaved: Vec<Vec<f64>> = vec![Vec::new(); bodies.len()];
    let start = Instant::now();
    let mut rounds = 0;
    while rounds < min_rounds || (start.elapsed() < budget && rounds < 100_000) {
        for (k, (_, body)) in bodies.iter_mut().enumerate() {
            let t = Instant::now();
            body();
            interleaved[k].push(t.elapsed().as_nanos() as f64);
            let n = batch[k];
            let t = Instant::now();
            for _ in 0..n {
                body();
            }
            hot[k].push(t.elapsed().as_nanos() as f64 / f64::from(n));
        }
        rounds += 1;
    }
    hot.into_iter()
        .zip(interleaved)
        .map(|(h, i)| Medians {
            hot: median(h),
            interleaved: median(i),
        })
        .collect()
}
