# Sourced by the bench scripts. measure CMD...: runs CMD $runs times in a clean $scratch/out; prints
# "median_seconds peak_rss_kb" (wall-clock median; RSS is the max over the runs, from /usr/bin/time %M).
# Needs: $runs, $scratch.
measure() {
  local times=() rss=0
  for ((i = 0; i < runs; i++)); do
    rm -rf "$scratch/out"; mkdir -p "$scratch/out"
    /usr/bin/time -f "%e %M" -o "$scratch/time" "$@" > /dev/null 2> "$scratch/err" || {
      echo "FAILED: $*" >&2; cat "$scratch/err" >&2; return 1; }
    read -r t m < "$scratch/time"
    times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  printf '%s\n' "${times[@]}" | sort -g | awk -v rss="$rss" '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.3f %d\n", m, rss}'
}
