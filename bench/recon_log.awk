# recon_log.awk - the reconciliation benchmark's log: a world's own events
# (which the benchmark ledger holds) with a share of rows given a
# discrepancy of spec section 5, and the list of the findings they must
# raise.  Used by scripts/bench; see bench/README.md.
#
#   awk -v canon=W/events.canon -v truth=W/events.truth -v rate=0.01 \
#       -v out=LOG.csv -v expect=EXPECT.txt -f bench/recon_log.awk \
#       W/events.csv W/events.csv
#
# The events file is read twice (pass 1 counts, pass 2 writes).  The
# target is rate x rows discrepancies, spread evenly over the legitimate
# dispense rows (truth "-", a canonical code, no quoting) of the middle
# 98% of the file, taking turns:
#   NOT_UPLOADED   a copy of the row under a settlement the ledger lacks
#                  is added after it: the facility sold it, never uploaded;
#   UNLOGGED       the row is left out: the ledger has a sale the log lacks
#                  (its seq is its data row number: the ledger ingested
#                  this file into a fresh ledger);
#   QTY_MISMATCH   qty becomes 999999 (no record has that many units);
#   DRUG_MISMATCH  drug becomes XBENCHDRUG.
# Rows whose (facility, settlement, code) an anomalous dispense row shares
# (a DUPLICATE_IN_CLAIM, or the rejected SUBSTITUTED attempt before the
# sale) are never picked: the log's other row of that claim line would
# match, and recon would rightly see no discrepancy.
# expect gets one "FINDING,N" line per discrepancy (N = log line, or the
# ledger seq for UNLOGGED).

BEGIN { pass = 0; nkinds = 4 }

FNR == 1 { pass++; rn = -1; partial = ""; close(canon); close(truth) }

# A CSV record may span lines (a quoted field holding LF): join lines until
# the record's quotes balance ("" inside quotes counts twice).
{
	rec = partial == "" ? $0 : partial "\n" $0
	tmp = rec
	if (gsub(/"/, "", tmp) % 2 == 1) { partial = rec; next }
	partial = ""
	if (++rn == 0) {			# the header
		if (pass == 2) print rec > out
		next
	}
	if ((getline c < canon) <= 0 || (getline tr < truth) <= 0) {
		print "recon_log.awk: canon/truth shorter than the events" > "/dev/stderr"
		exit 2
	}
	if (pass == 1) first_pass(rec); else second_pass(rec)
}

# Split a record into f[1..n] by RFC 4180; returns n.
function csv_split(s, f,    n, i, ch, q, v, len) {
	n = 1; v = ""; q = 0; len = length(s)
	for (i = 1; i <= len; i++) {
		ch = substr(s, i, 1)
		if (q) {
			if (ch == "\"") {
				if (substr(s, i + 1, 1) == "\"") { v = v "\""; i++ } else q = 0
			} else v = v ch
		} else if (ch == "\"") q = 1
		else if (ch == ",") { f[n++] = v; v = "" }
		else v = v ch
	}
	f[n] = v
	return n
}

function candidate(rec) {
	return tr == "-" && c != "" && index(rec, "\"") == 0 &&
	       split(rec, f, ",") == 9 && f[3] == "dispense"
}

function first_pass(rec) {
	rows = rn
	if (tr != "-" && c != "" && csv_split(rec, g) == 9 && g[3] == "dispense")
		shared[g[2] SUBSEP g[7] SUBSEP c] = 1
	if (candidate(rec)) ncand++
}

function emit(rec) { print rec > out; line++ }

function second_pass(rec,    k, lo, hi) {
	if (rn == 1) {
		target = int(rows * rate)
		lo = int(rows / 100); hi = rows - lo
		span_lo = lo; span_hi = hi
		# legitimate dispense rows inside the span, roughly: pass 1 could
		# not yet know which claim lines a later anomalous row shares
		cand_mid = ncand * (hi - lo) / rows
	}
	if (rn <= span_lo || rn > span_hi || !candidate(rec) || (f[2] SUBSEP f[7] SUBSEP c) in shared) {
		emit(rec)
		return
	}
	acc += target
	if (acc < cand_mid || made >= target) { emit(rec); return }
	acc -= cand_mid
	k = made++ % nkinds
	if (k == 0) {
		emit(rec)
		f[7] = "XB" made
		emit(f[1] "," f[2] "," f[3] "," f[4] "," f[5] "," f[6] "," f[7] "," f[8] "," f[9])
		print "NOT_UPLOADED," line > expect
	} else if (k == 1) {
		print "UNLOGGED," rn > expect
	} else if (k == 2) {
		emit(f[1] "," f[2] "," f[3] "," f[4] "," f[5] ",999999," f[7] "," f[8] "," f[9])
		print "QTY_MISMATCH," line > expect
	} else {
		emit(f[1] "," f[2] "," f[3] "," f[4] ",XBENCHDRUG," f[6] "," f[7] "," f[8] "," f[9])
		print "DRUG_MISMATCH," line > expect
	}
}

END {
	if (partial != "") emit(partial)	# an unterminated quote: as is
	printf "recon_log.awk: %d rows, %d discrepancies injected (target %d)\n", rows, made, target > "/dev/stderr"
}
