#!/bin/sh
# MAINTAIN_ROOM before the creator's controls (commit f10c078) and now, for
# one room with 32 members on the calling node (docs/BENCHMARKS.md). Run from
# the repository root with Redis on 127.0.0.1:6379; uses a throwaway room.
set -e
extract() {
  git show "$1:crates/shared/src/redis/scripts.rs" | python3 -c '
import re, sys
s = sys.stdin.read()
def macro(name):
    m = re.search(r"macro_rules! " + name + r" \{\s*\(\) => \{\s*r#\"(.*?)\"#", s, re.S)
    return m.group(1) if m else ""
m = re.search(r"pub const MAINTAIN_ROOM: &str = concat!\((.*?)r#\"(.*?)\"#", s, re.S)
parts = [macro(n) for n in re.findall(r"(\w+)!\(\)", m.group(1))]
print("".join(parts) + m.group(2))'
}
OLD_LUA=$(extract f10c078); NEW_LUA=$(extract HEAD)
R="redis-cli -h 127.0.0.1 -p 6379"; ROOM="benchctl$$"
K1="vroom:{$ROOM}:room"; K2="vroom:{$ROOM}:presence"; K3="vroom:{$ROOM}:tickets"
$R HSET "$K1" idle_secs 900 expires_at 9999999999 creator_sha256 abc creator_member 1 >/dev/null
$R EXPIRE "$K1" 600 >/dev/null
MEMBERS=$(seq 1 32 | tr '\n' ' ')
for m in $MEMBERS; do $R ZADD "$K2" 99999999999999 "$m" >/dev/null; done
$R EXPIRE "$K2" 600 >/dev/null
OLD=$($R SCRIPT LOAD "$OLD_LUA"); NEW=$($R SCRIPT LOAD "$NEW_LUA")
for round in 1 2 3; do
  for s in OLD NEW; do
    eval sha=\$$s
    printf '%s ' "$s"
    # shellcheck disable=SC2086
    redis-benchmark -h 127.0.0.1 -p 6379 -c 4 -n 20000 -q EVALSHA "$sha" 3 "$K1" "$K2" "$K3" 0 600000 30000 abc $MEMBERS 2>&1 \
      | tr '\r' '\n' | tail -1 | sed 's/.*: \([0-9.]* requests per second.*\)/\1/'
  done
done
$R DEL "$K1" "$K2" "$K3" >/dev/null
