#!/bin/sh
# rss-breakdown.sh PID: where a process's resident memory is, from
# /proc/PID/smaps: the total, what is file-backed (the binary and the
# shared libraries: their code and read-only data, pages any process using
# the same libraries has too) and what is anonymous (the heap, the mmap'd
# blocks of malloc, thread stacks, the libraries' written data), then each
# mapping's name with its resident kB, largest first. Used by bench/e2e.sh;
# doc/performance.md explains the figures.
[ $# -eq 1 ] && [ -r "/proc/$1/smaps" ] || {
	echo "usage: rss-breakdown.sh PID (a process this user may read)" >&2
	exit 2
}
awk '
/^[0-9a-f]+-[0-9a-f]+ / {
	name = $6 == "" ? "[anon: malloc blocks, thread stacks]" : $6
	sub(/.*\//, "", name)
	next
}
$1 == "Rss:" { rss[name] += $2; total += $2 }
$1 == "Anonymous:" { anon += $2; if (name !~ /^\[/) written[name] += $2 }
END {
	printf "RSS %d kB: file-backed %d kB, anonymous %d kB\n", total, total - anon, anon
	for (n in rss)
		if (rss[n] > 0) {
			w = ""
			if (written[n] > 0)
				w = sprintf(" (%d kB written: data, relocations)", written[n])
			printf "%8d kB  %s%s\n", rss[n], n, w
		}
}' "/proc/$1/smaps" | { IFS= read -r head; echo "$head"; sort -rn; }
