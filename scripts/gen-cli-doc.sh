#!/usr/bin/env bash
# Regenerates the --help part of docs/cli.md from the built CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${SCOPEGATE:-.build/debug/scopegate}
{
  echo "# scopegate CLI reference"; echo
  echo "Generated from \`--help\` (regenerate with \`scripts/gen-cli-doc.sh\`), followed by examples. Exit codes: 0 success, 1 a finding (lint errors, a deny), 2 cannot do the job (usage error, unreadable file, policy with errors, unknown tool or client); per subcommand in [exit-codes.md](exit-codes.md)."
  echo; echo '## scopegate'; echo '```'; "$B" --help; echo '```'
  for c in $("$B" --help | awk '/^SUBCOMMANDS:/{f=1;next} f && /^  [a-z][a-z-]* / {print $1}' | grep -v help); do
    echo; echo "## scopegate $c"; echo '```'; "$B" "$c" --help; echo '```'
    # A command group (`bundle`) documents each of its subcommands too.
    for s in $("$B" "$c" --help | awk '/^SUBCOMMANDS:/{f=1;next} f && /^  [a-z][a-z-]* / {print $1}' | grep -v help); do
      echo; echo "### scopegate $c $s"; echo '```'; "$B" "$c" "$s" --help; echo '```'
    done
  done
  echo; cat docs/cli-examples.md
} > docs/cli.md
