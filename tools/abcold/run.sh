#!/usr/bin/env bash
# Interleaved A/B of the working tree against an earlier commit, in one
# process (main.rs says how). Usage, from anywhere in the repository:
#
#   tools/abcold/run.sh BASE_REV [SHAPE [RULES [PAIRS [cold|hot [reuse]]]]]
#   tools/abcold/run.sh HEAD~1 typical 10000 1000 cold
#
# SHAPE is a shape of benches/shapes.rs (typical, narrow, narrow-explained,
# deny, delegated, shared-key); `reuse` times the working tree's
# `evaluate_into` against the base's `evaluate` and drop. Builds in $AB_DIR (default /tmp/mintgate-ab):
# a worktree of BASE_REV whose package version is changed (Cargo takes two
# copies of one package only at different versions), and the harness with
# both as dependencies. The measurement runs on core $AB_CPU (default 1)
# when `taskset` is there.
set -euo pipefail
base_rev=${1:?usage: run.sh BASE_REV [SHAPE [RULES [PAIRS [cold|hot [reuse]]]]]}
shift
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
dir=${AB_DIR:-/tmp/mintgate-ab}
mkdir -p "$dir"
rev=$(git -C "$repo" rev-parse "$base_rev")
if [ "$(git -C "$dir/base" rev-parse HEAD 2>/dev/null || true)" != "$rev" ]; then
  git -C "$repo" worktree remove --force "$dir/base" 2>/dev/null || rm -rf "$dir/base"
  git -C "$repo" worktree add --detach --force "$dir/base" "$rev" >/dev/null
fi
sed -i '0,/^version = .*/s//version = "0.0.0-base"/' "$dir/base/Cargo.toml"
mkdir -p "$dir/harness/src"
cp "$repo/tools/abcold/main.rs" "$dir/harness/src/main.rs"
sed -i "s|#\[path = \"../../benches/support/policy_gen.rs\"\]|#[path = \"$repo/benches/support/policy_gen.rs\"]|" "$dir/harness/src/main.rs"
cat > "$dir/harness/Cargo.toml" <<TOML
[package]
name = "mintgate-ab"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
mintgate = { path = "$repo" }
mintgate_base = { package = "mintgate", path = "$dir/base" }
serde_json = "1"
chrono = { version = "0.4", default-features = false, features = ["std"] }
TOML
CARGO_TARGET_DIR="$dir/target" cargo build --quiet --release --manifest-path "$dir/harness/Cargo.toml"
echo "base $(git -C "$repo" rev-parse --short "$rev"), new: the working tree of $repo"
pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c "${AB_CPU:-1}"); fi
"${pin[@]}" "$dir/target/release/mintgate-ab" "$@"
