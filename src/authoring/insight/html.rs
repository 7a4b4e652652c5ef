//! The report as one self-contained HTML page: inline CSS, inline SVG
//! charts, no script, no external asset, no network. Every log string is
//! escaped and cut (log lines are untrusted text).

use std::fmt::Write;

use super::model::{Named, Outcomes, Report, RuleReport};
use super::text::{day, dur, pct, show};

const ALLOW: &str = "#2e7d32";
const NARROW: &str = "#f9a825";
const DENY: &str = "#c62828";

/// HTML-escape `s`, after cutting it to a bounded length.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in show(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1b1b1b;max-width:1180px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}\
table{border-collapse:collapse;font-size:13px;width:100%}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eee;vertical-align:top}\
th{background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#666;font-size:13px}\
.cards{display:flex;gap:12px;margin:12px 0}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}\
.card b{display:block;font-size:20px}.warn{color:#b26a00}code{font-size:12px;background:#f6f6f6;padding:0 3px}\
svg text{font-family:system-ui,sans-serif;font-size:11px;fill:#333}";

impl Report {
    /// The report as one self-contained HTML page with SVG charts: decisions
    /// over time by outcome, the most narrowed scopes, requested against
    /// granted lifetime; then the tables of the text report.
    ///
    /// ```
    /// use mintgate::authoring::insight::{ReportOptions, report};
    ///
    /// let r = report("".as_bytes(), &ReportOptions::default(), &mut |_| {}).unwrap();
    /// let html = r.to_html();
    /// assert!(html.starts_with("<!DOCTYPE html>"));
    /// assert!(!html.contains("http://") && !html.contains("<script"));
    /// ```
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(64 * 1024);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width\">");
        out.push_str("<title>mintgate decision-log report</title><style>");
        out.push_str(STYLE);
        out.push_str("</style></head><body>\n");
        self.html_summary(&mut out);
        out.push_str("<h2>Decisions over time</h2>\n");
        out.push_str(&timeline_svg(self));
        out.push_str("<h2>Most narrowed scopes</h2>\n");
        out.push_str(&bars_svg(&self.narrowed_scopes));
        out.push_str("<h2>Requested vs granted lifetime</h2>\n");
        out.push_str(&ttl_svg(self));
        self.html_rules(&mut out);
        self.html_friction(&mut out);
        self.html_over_asking(&mut out);
        self.html_evidence(&mut out);
        out.push_str("</body></html>\n");
        out
    }

    fn html_summary(&self, out: &mut String) {
        let o = &self.outcomes;
        let n = o.total();
        let _ = write!(out, "<h1>Decision-log report</h1><p class=\"muted\">");
        if let (Some(a), Some(b)) = (self.first, self.last) {
            let _ = write!(out, "{} → {} UTC · ", day(a), day(b));
        }
        let _ = write!(out, "{} records", self.records);
        if let Some(p) = &self.policy {
            let _ = write!(out, " · policy <code>{}</code>", esc(p));
        }
        out.push_str("</p><div class=\"cards\">");
        for (label, count, color) in [
            ("allow", o.allow, ALLOW),
            ("narrow", o.narrow, NARROW),
            ("deny", o.deny, DENY),
        ] {
            let _ = write!(
                out,
                "<div class=\"card\" style=\"border-left:5px solid {color}\">{label}<b>{count}</b>{}</div>",
                pct(count, n)
            );
        }
        out.push_str("</div>");
        let s = &self.skipped;
        let skipped =
            s.not_decision + s.malformed + s.newer_version + s.outside_window + s.other_policy;
        if skipped > 0 {
            let _ = write!(
                out,
                "<p class=\"muted\">skipped: {} not decisions, {} malformed, {} newer record version, {} outside the window, {} other policies</p>",
                s.not_decision, s.malformed, s.newer_version, s.outside_window, s.other_policy
            );
        }
        if !self.capped.is_empty() {
            let _ = write!(
                out,
                "<p class=\"warn\">Tables at their size bound (overflow counted, not itemized): {}</p>",
                esc(&self.capped.join(", "))
            );
        }
    }

    fn html_rules(&self, out: &mut String) {
        out.push_str("<h2>Rules</h2><table><tr><th>rule</th><th>matched</th><th>granted scopes</th><th>never granted (remove?)</th><th>granted audience</th><th>max_ttl</th><th>granted ttl p50 / p95 / max</th><th>subjects</th></tr>\n");
        for r in &self.rules {
            rule_row(out, r);
        }
        out.push_str("</table>\n");
    }

    fn html_friction(&self, out: &mut String) {
        out.push_str("<h2>Friction: where requests are narrowed or denied</h2><table><tr><th>count</th><th>decision</th><th>reason</th><th>cause</th><th>rule</th><th>failing condition</th></tr>\n");
        for f in &self.friction {
            let opt = |o: &Option<String>| o.as_deref().map_or(String::new(), esc);
            let _ = writeln!(
                out,
                "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.count,
                esc(&f.decision),
                esc(&f.kind),
                opt(&f.cause),
                opt(&f.rule),
                opt(&f.condition)
            );
        }
        out.push_str("</table>\n");
    }

    fn html_over_asking(&self, out: &mut String) {
        out.push_str("<h2>Over-asking: share of what was asked that was cut</h2><table><tr><th>identity</th><th>kind</th><th>purpose</th><th>requests</th><th>denied</th><th>scopes cut</th><th>lifetime cut</th></tr>\n");
        for o in &self.over_asking {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} / {} ({})</td><td class=\"n\">{} of {} ({})</td></tr>",
                esc(&o.subject),
                esc(&o.kind),
                o.purpose.as_deref().map_or(String::new(), esc),
                o.requests,
                o.denied,
                o.scopes_cut,
                o.scopes_requested,
                pct(o.scopes_cut, o.scopes_requested),
                dur(o.ttl_cut_secs),
                dur(o.ttl_requested_secs),
                pct(o.ttl_cut_secs, o.ttl_requested_secs)
            );
        }
        out.push_str("</table>\n");
    }

    fn html_evidence(&self, out: &mut String) {
        out.push_str("<h2>Audit evidence: decisions per control</h2><table><tr><th>control</th><th>decisions</th><th>allow</th><th>narrow</th><th>deny</th><th>first</th><th>last</th></tr>\n");
        for c in &self.controls {
            let d = &c.decisions;
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.control),
                d.total(),
                d.allow,
                d.narrow,
                d.deny,
                day(c.first),
                day(c.last)
            );
        }
        out.push_str("</table><h2>Policy revisions seen</h2><table><tr><th>policy</th><th>revision</th><th>digest</th><th>decisions</th><th>first</th><th>last</th></tr>\n");
        for r in &self.revisions {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.id),
                esc(&r.revision),
                esc(&r.digest),
                r.records,
                day(r.first),
                day(r.last)
            );
        }
        out.push_str("</table>\n");
    }
}

fn names(items: &[Named], n: usize) -> String {
    let mut s: Vec<String> = items
        .iter()
        .take(n)
        .map(|i| format!("{} <span class=\"muted\">×{}</span>", esc(&i.name), i.count))
        .collect();
    if items.len() > n {
        s.push(format!("… {} more", items.len() - n));
    }
    s.join("<br>")
}

fn outcomes_cell(o: &Outcomes) -> String {
    format!(
        "{} <span class=\"muted\">({}/{}/{})</span>",
        o.total(),
        o.allow,
        o.narrow,
        o.deny
    )
}

fn rule_row(out: &mut String, r: &RuleReport) {
    let p = &r.granted_ttl;
    let ttl = if p.count > 0 {
        format!("{} / {} / {}", dur(p.p50), dur(p.p95), dur(p.max))
    } else {
        "–".to_owned()
    };
    let never: Vec<String> = r.never_granted_scopes.iter().map(|s| esc(s)).collect();
    let effect = r.effect.as_deref().map_or(String::new(), |e| {
        format!(" <span class=\"muted\">{e}</span>")
    });
    let _ = writeln!(
        out,
        "<tr><td><code>{}</code>{effect}</td><td>{}</td><td>{}</td><td class=\"warn\">{}</td><td>{}</td><td>{}</td><td>{ttl}</td><td class=\"n\">{}{}</td></tr>",
        esc(&r.rule),
        outcomes_cell(&r.matched),
        names(&r.granted_scopes, 6),
        never.join("<br>"),
        names(&r.granted_audience, 3),
        r.max_ttl_secs.map_or("–".to_owned(), dur),
        r.subjects,
        if r.subjects_capped { "+" } else { "" }
    );
}

/// Stacked bars per day: allow, narrow, deny.
fn timeline_svg(r: &Report) -> String {
    let (w, h, left, bottom, top) = (1100.0, 250.0, 48.0, 28.0, 26.0);
    let days = &r.timeline;
    let mut s = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"decisions per day by outcome\">"
    );
    if days.is_empty() {
        s.push_str("<text x=\"10\" y=\"20\">no decisions</text></svg>\n");
        return s;
    }
    let max = days
        .iter()
        .map(|d| d.outcomes.total())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let plot_h = h - bottom - top;
    let slot = (w - left - 10.0) / days.len() as f64;
    let bar = (slot * 0.8).max(1.0);
    axis_y(&mut s, left, top, plot_h, max);
    for (i, d) in days.iter().enumerate() {
        let x = left + i as f64 * slot;
        let mut y = top + plot_h;
        for (count, color, label) in [
            (d.outcomes.allow, ALLOW, "allow"),
            (d.outcomes.narrow, NARROW, "narrow"),
            (d.outcomes.deny, DENY, "deny"),
        ] {
            let bh = count as f64 / max * plot_h;
            y -= bh;
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{} {label}: {count}</title></rect>",
                d.day
            );
        }
        // A date label every ~10 % of the axis.
        let every = (days.len() / 10).max(1);
        if i % every == 0 {
            let _ = write!(
                s,
                "<text x=\"{x:.1}\" y=\"{:.1}\">{}</text>",
                h - 10.0,
                d.day.format("%m-%d")
            );
        }
    }
    legend(&mut s, left + 4.0, 14.0);
    s.push_str("</svg>\n");
    s
}

fn axis_y(s: &mut String, left: f64, top: f64, plot_h: f64, max: f64) {
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{:.1}\" stroke=\"#999\"/>",
        top + plot_h
    );
    for frac in [0.0, 0.5, 1.0] {
        let y = top + plot_h * (1.0 - frac);
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><line x1=\"{left}\" y1=\"{y:.1}\" x2=\"1090\" y2=\"{y:.1}\" stroke=\"#eee\"/>",
            left - 4.0,
            y + 4.0,
            (max * frac).round() as u64
        );
    }
}

fn legend(s: &mut String, x: f64, y: f64) {
    for (i, (label, color)) in [("allow", ALLOW), ("narrow", NARROW), ("deny", DENY)]
        .iter()
        .enumerate()
    {
        let lx = x + i as f64 * 70.0;
        let _ = write!(
            s,
            "<rect x=\"{lx}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{y}\">{label}</text>",
            y - 9.0,
            lx + 14.0
        );
    }
}

/// Horizontal bars: the most narrowed scopes.
fn bars_svg(items: &[Named]) -> String {
    let items: Vec<&Named> = items.iter().take(15).collect();
    let (w, row, left) = (1100.0, 20.0, 260.0);
    let h = (items.len().max(1) as f64) * row + 10.0;
    let mut s = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"most narrowed scopes\">"
    );
    if items.is_empty() {
        s.push_str("<text x=\"10\" y=\"15\">no scope was cut</text></svg>\n");
        return s;
    }
    let max = items.iter().map(|n| n.count).max().unwrap_or(1).max(1) as f64;
    for (i, n) in items.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let bw = n.count as f64 / max * (w - left - 80.0);
        let name: String = n.name.chars().take(40).collect();
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{NARROW}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            left - 6.0,
            y + 12.0,
            esc(&name),
            row - 6.0,
            left + bw + 4.0,
            y + 12.0,
            n.count
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Requested against granted lifetime, log-scaled; a circle per pair, its
/// area by count; the diagonal is "granted as asked".
fn ttl_svg(r: &Report) -> String {
    let (w, h, m) = (560.0, 420.0, 56.0);
    let mut s = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"requested versus granted lifetime\">"
    );
    let pairs = &r.ttl_pairs;
    if pairs.is_empty() {
        s.push_str("<text x=\"10\" y=\"20\">no lifetime was asked for</text></svg>\n");
        return s;
    }
    let hi = pairs
        .iter()
        .map(|p| p.requested_secs.max(p.granted_secs))
        .max()
        .unwrap_or(60)
        .max(60) as f64;
    let lo = pairs
        .iter()
        .map(|p| p.requested_secs.min(p.granted_secs))
        .min()
        .unwrap_or(1)
        .max(1) as f64;
    let (llo, lhi) = (lo.ln(), (hi.ln()).max(lo.ln() + 1.0));
    let scale = |v: u64, len: f64| ((v.max(1) as f64).ln() - llo) / (lhi - llo) * len;
    let plot = w - 2.0 * m;
    let plot_h = h - 2.0 * m;
    let _ = write!(
        s,
        "<rect x=\"{m}\" y=\"{m}\" width=\"{plot}\" height=\"{plot_h}\" fill=\"none\" stroke=\"#999\"/><line x1=\"{m}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{m}\" stroke=\"#bbb\" stroke-dasharray=\"4 4\"/>",
        m + plot_h,
        m + plot
    );
    let ticks: Vec<u64> = [60u64, 300, 900, 1800, 3600, 4 * 3600, 86_400]
        .into_iter()
        .filter(|t| (*t as f64) >= lo && (*t as f64) <= hi)
        .collect();
    for t in &ticks {
        let x = m + scale(*t, plot);
        let y = m + plot_h - scale(*t, plot_h);
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            m + plot_h + 16.0,
            dur(*t),
            m - 6.0,
            y + 4.0,
            dur(*t)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">requested</text><text x=\"14\" y=\"{:.1}\" transform=\"rotate(-90 14 {:.1})\" text-anchor=\"middle\">granted</text>",
        m + plot / 2.0,
        h - 12.0,
        m + plot_h / 2.0,
        m + plot_h / 2.0
    );
    let max = pairs.iter().map(|p| p.count).max().unwrap_or(1).max(1) as f64;
    for p in pairs {
        let x = m + scale(p.requested_secs, plot);
        let y = m + plot_h - scale(p.granted_secs, plot_h);
        let radius = 3.0 + 14.0 * (p.count as f64 / max).sqrt();
        let color = if p.granted_secs < p.requested_secs {
            NARROW
        } else {
            ALLOW
        };
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius:.1}\" fill=\"{color}\" fill-opacity=\"0.55\" stroke=\"{color}\"><title>asked {}, granted {}: {}</title></circle>",
            dur(p.requested_secs),
            dur(p.granted_secs),
            p.count
        );
    }
    s.push_str("</svg>\n");
    s
}
