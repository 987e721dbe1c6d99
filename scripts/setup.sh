#!/usr/bin/env bash
# Installs what building and testing Kiln needs on Debian, only if missing:
# every package named in scripts/tools.txt (the list of each program and
# file that the build, the tests, the example and the bench check use).
# Debian packages come with apt-get --no-install-recommends, so a tool that
# a package only recommends must be listed itself (tools.txt says why for
# each such case); PyPI packages are pinned.
# Safe to run repeatedly; runs apt-get and pip only when something is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt=()
pip=()
while read -r need package; do
    case "$need" in ''|'#'*) continue ;; esac
    case "$package" in
        pip:*) pip+=("${package#pip:}") ;;
        *) apt+=("$package") ;;
    esac
done < scripts/tools.txt
mapfile -t apt < <(printf '%s\n' "${apt[@]}" | sort -u)

missing=()
for p in "${apt[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

for spec in "${pip[@]}"; do
    name=${spec%%==*} version=${spec#*==}
    have=$(python3 -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)
    if [ "$have" != "$version" ]; then
        echo "setup: installing $spec from PyPI"
        python3 -m pip install -q --disable-pip-version-check "$spec"
    fi
done

if ! command -v cargo >/dev/null; then
    echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi
# The Rust toolchain rust-toolchain.toml names (Cranelift's release sets
# the minimum). rustup fetches a missing one by itself only where
# RUSTUP_AUTO_INSTALL is not 0, so it is installed here.
toolchain=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
if command -v rustup >/dev/null && ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    echo "setup: installing Rust $toolchain (rust-toolchain.toml) with rustup"
    if ! rustup toolchain install "$toolchain" --profile minimal; then
        # rustup's server out of reach: a toolchain already on the machine
        # whose rustc is at least that release (a nightly of its cycle)
        # stands in under the pinned name. rustup refuses custom toolchains
        # named like releases, so it is a link in rustup's toolchains folder.
        home=$(rustup show home)
        for dir in "$home"/toolchains/*; do
            have=$("$dir/bin/rustc" --version 2>/dev/null | awk '{print $2}') || true
            host=$("$dir/bin/rustc" -vV 2>/dev/null | sed -n 's/^host: //p') || true
            if [ -n "$have" ] && [ -n "$host" ] && printf '%s\n%s\n' "$toolchain" "${have%%-*}" | sort -V -C; then
                echo "setup: cannot fetch Rust $toolchain; using $(basename "$dir") (rustc $have) in its place"
                ln -sfn "$dir" "$home/toolchains/$toolchain-$host"
                break
            fi
        done
    fi
fi
if ! cargo --version >/dev/null 2>&1; then
    echo "setup: cargo does not run with Rust $toolchain (rust-toolchain.toml); install it with rustup" >&2
    exit 1
fi
