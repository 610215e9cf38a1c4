#!/usr/bin/env bash
# Import the AdventureWorks reseller data (../shared/data/adventureworks/ next to the
# repository) into the database ACCORD_DATABASE_URL names (default: the local SQLite file).
# Safe to run again: a second run changes nothing. Works from any directory. Ends by
# loading the reseller program (reseller-program.toml).
#
#   docs/examples/adventureworks/import.sh            # migrate, then import everything
#   ACCORD_DATABASE_URL=postgres://... docs/examples/adventureworks/import.sh
#
# Imports run as the vendor's first active administrator (or ACCORD_IMPORT_USER); on a
# database without one, an administrator without a password (it cannot log in) is created.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
DATA="${ACCORD_AW_DATA:-$ROOT/../shared/data/adventureworks}"
if [ -n "${ACCORD:-}" ]; then
    read -r -a CLI <<< "$ACCORD"
elif [ -x "$ROOT/.venv/bin/accord" ]; then
    CLI=("$ROOT/.venv/bin/accord")
else
    CLI=(accord)
fi

if [ ! -d "$DATA" ]; then
    echo "AdventureWorks data not found in $DATA" >&2
    exit 2
fi

"${CLI[@]}" migrate --verbosity 0

USER_ARGS=()
if [ -n "${ACCORD_IMPORT_USER:-}" ]; then
    USER_ARGS=(--user "$ACCORD_IMPORT_USER")
else
    admins="$("${CLI[@]}" shell --no-imports -c "from accord.imports.selectors import default_user; print(1 if default_user() else 0)" 2>/dev/null | tail -n 1 || echo 0)"
    if [ "$admins" != "1" ]; then
        "${CLI[@]}" createsuperuser --noinput --email adventureworks-import@localhost \
            --full_name "AdventureWorks import" >/dev/null
    fi
fi

run() {  # KIND FILE MAPPING
    echo "== $1 from $2 ($3)"
    "${CLI[@]}" import "$1" "$DATA/$2" --mapping "$HERE/$3" "${USER_ARGS[@]}"
}

run territories sales_territories.csv territory_groups.toml
run territories sales_territories.csv territories.toml
run products products.csv products.toml
run organisations resellers.csv resellers.toml
run organisations reseller_profiles.csv reseller_profiles.toml
run sales_lines reseller_sales.csv sales.toml

# The reseller program (tiers over the sales just imported); a second run prints
# "unchanged". Evaluate it with: accord evaluate reseller-program --as-of 2020-06-01
echo "== programs from reseller-program.toml"
"${CLI[@]}" programs load "$HERE/reseller-program.toml" "${USER_ARGS[@]}"
