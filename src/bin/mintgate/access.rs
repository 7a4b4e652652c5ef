//! `mintgate diff OLD NEW --access [--allow FILE]`: the no-new-access gate
//! for policy changes (docs/analysis.md).

use std::path::Path;

use mintgate::authoring::analysis::{AccessChange, AccessDiff, AllowList, access_diff};

use crate::input::{InputError, load_ok, read};

/// Run the gate: exit 1 when new access (or a longer lifetime, or an
/// undecided pair) is not in the allow file.
pub fn run(old: &Path, new: &Path, allow: Option<&Path>, json_out: bool) -> Result<u8, InputError> {
    let old_policy = load_ok(old)?;
    let new_policy = load_ok(new)?;
    let allow_list = match allow {
        Some(path) => AllowList::parse(&read(path)?)
            .map_err(|e| InputError::at("invalid_allow_file", path, None, None, e))?,
        None => AllowList::default(),
    };
    let diff = access_diff(&old_policy, &new_policy, &allow_list);
    if json_out {
        println!("{}", crate::pretty(&diff));
    } else {
        print!("{}", render(&diff));
    }
    Ok(u8::from(diff.gate_fails()))
}

fn change(kind: &str, c: &AccessChange) -> String {
    let allowed = if c.allowed { " (allowed)" } else { "" };
    let mut out = format!(
        "{kind}: `{}` at `{}` via `{}`{allowed}\n",
        c.scope, c.audience, c.permit
    );
    let ttl = |t: Option<mintgate::Duration>| t.map_or("-".to_owned(), |t| t.to_string());
    out.push_str(&format!(
        "  longest ttl: old {}, new {}\n",
        ttl(c.old_ttl),
        ttl(c.new_ttl)
    ));
    if let Some(w) = &c.witness {
        let request = serde_json::to_string(&w.request).unwrap_or_default();
        out.push_str(&format!("  witness at {}: {request}\n", w.now.to_rfc3339()));
    }
    if !c.detail.is_empty() {
        out.push_str(&format!("  {}\n", c.detail));
    }
    out
}

/// The human report.
pub fn render(d: &AccessDiff) -> String {
    let mut out = String::new();
    for c in &d.added {
        out.push_str(&change("new access", c));
    }
    for c in &d.longer {
        out.push_str(&change("longer lifetime", c));
    }
    for c in &d.undecided {
        out.push_str(&change("undecided", c));
    }
    for c in &d.removed {
        out.push_str(&change("access removed", c));
    }
    let blocking = d
        .added
        .iter()
        .chain(&d.longer)
        .chain(&d.undecided)
        .filter(|c| !c.allowed)
        .count();
    out.push_str(&format!(
        "{} scope/audience pairs compared: {} new, {} longer, {} undecided, {} removed; {}\n",
        d.checked.len(),
        d.added.len(),
        d.longer.len(),
        d.undecided.len(),
        d.removed.len(),
        if blocking == 0 {
            "no new access outside the allow list".to_owned()
        } else {
            format!("{blocking} not in the allow list")
        }
    ));
    out
}
