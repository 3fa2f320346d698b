# e2e.gnuplot - latency against offered rate, keycastd and the peer bunker
# (bench/e2e.sh writes the data and runs it):
#   gnuplot -e "kc='keycastd.dat'; peer='ndk.dat'; out='latency.png'; sub='...'" e2e.gnuplot
# Each data file: lines "rate p50_ms p99_ms", by rate, at least one.
set terminal pngcairo size 1000,560 font "sans,10"
set output out
set title "sign_event end to end through one local relay: latency against offered rate\n".sub noenhanced
set xlabel "offered rate (requests/s, open loop)"
set ylabel "latency, relay acceptance to reply (ms)"
set logscale xy
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key outside right top vertical box
set yrange [0.5:*]
set arrow from graph 0, first 100 to graph 1, first 100 nohead dt 3 lc rgb "#888888"
set label "p99 goal: 100 ms" at graph 0.99, first 120 right tc rgb "#666666" noenhanced

# peer is "" when the peer was not run (the script never passes an empty file)
has_peer = peer ne ""

set style line 1 lc rgb "#1f77b4" lw 2 pt 7 ps 0.8
set style line 2 lc rgb "#1f77b4" lw 2 pt 5 ps 0.8 dt 2
set style line 3 lc rgb "#d62728" lw 2 pt 7 ps 0.8
set style line 4 lc rgb "#d62728" lw 2 pt 5 ps 0.8 dt 2

if (has_peer) {
	plot kc using 1:2 with linespoints ls 1 title "keycastd p50", \
	     kc using 1:3 with linespoints ls 2 title "keycastd p99", \
	     peer using 1:2 with linespoints ls 3 title "NDK NIP-46 backend p50", \
	     peer using 1:3 with linespoints ls 4 title "NDK NIP-46 backend p99"
} else {
	plot kc using 1:2 with linespoints ls 1 title "keycastd p50", \
	     kc using 1:3 with linespoints ls 2 title "keycastd p99"
}
