# SPDX-License-Identifier: GPL-2.0
#
# Count the results in the TAP of run_kselftest.sh and print the closing
# line "N passed, N failed, N skipped".
#
# A selftest program that reports its own test cases (nested TAP, "# ok N")
# counts as those cases; a program without nested results counts as one.
# A program that fails after all its cases passed (a crash at exit, the
# kselftest timeout) adds one failure; programs the plan announced but that
# never reported (the VM died) count as failed.  One more test checks the
# kernel log for warnings, oopses, lockdep, KASAN and kmemleak reports.
#
# Variables: dmesg (kernel log file), console (the VM's console log),
# finished (0 when the VM was killed or died before it finished).

function flush_inner() {
	ipass = 0; ifail = 0; iskip = 0
}

BEGIN {
	plan = -1
	progs = 0
	pass = 0; fail = 0; skip = 0
	flush_inner()
}

/^1\.\.[0-9]+$/ && plan < 0 {
	plan = substr($0, 4) + 0
	next
}

/^# (not )?ok [0-9]+ / {
	if ($0 ~ /# *(SKIP|skip)/)
		iskip++
	else if ($0 ~ /^# not ok/ && $0 !~ /# *XFAIL/)
		ifail++
	else
		ipass++
	next
}

/^(not )?ok [0-9]+ selftests: / {
	progs++
	if (ipass + ifail + iskip == 0) {
		if ($0 ~ /# *SKIP/)
			skip++
		else if ($0 ~ /^not ok/)
			fail++
		else
			pass++
	} else {
		pass += ipass; fail += ifail; skip += iskip
		if ($0 ~ /^not ok/ && ifail == 0 && $0 !~ /# *SKIP/)
			fail++
	}
	if ($0 ~ /^not ok/)
		failed_progs = failed_progs "\n#   " $0
	flush_inner()
	next
}

END {
	if (plan <= 0) {
		print "not ok - the selftests did not start; console log: " console
		fail++
	} else if (progs < plan) {
		# A program cut short: its finished cases count, plus one failure
		# for it and one for each program that never ran.
		pass += ipass; fail += ifail; skip += iskip
		fail += plan - progs
		print "# " plan - progs " of " plan " selftest programs did not report; console log: " console
	} else if (finished == "0") {
		print "not ok - the VM did not power off after the selftests; console log: " console
		fail++
	}
	if (failed_progs != "")
		print "# failed:" failed_progs

	klog = dmesg
	if ((getline line < klog) <= 0)
		klog = console
	close(klog)
	bad = ""
	expected = 0
	while ((getline line < klog) > 0) {
		# A test that makes the core warn on purpose says so first
		# (selftests/vhost_net_bind.c, faults_unbind): that one warning
		# is let through, nothing else.
		if (line ~ /vhost_net selftest: expected: WARNING in __netif_mp_close_rxq/) {
			expected = 1
			continue
		}
		if (line ~ /vhost_net selftest: expected warning over/) {
			expected = 0
			continue
		}
		if (expected && line ~ /WARNING: .* __netif_mp_close_rxq/)
			continue
		if (line ~ /WARNING:|BUG:|Oops|Kernel panic|KASAN|UBSAN|kmemleak: [0-9]+ new suspected|possible circular locking|possible recursive locking|INFO: task .* blocked|general protection fault|page_pool.*stalled/) {
			bad = line
			break
		}
	}
	if (bad == "") {
		# Only a run that got as far as the tests has a log worth passing.
		if (plan > 0) {
			print "ok - kernel log: no warning, oops, lockdep, KASAN or kmemleak report"
			pass++
		}
	} else {
		print "not ok - kernel log: " bad
		print "#   full log: " klog
		fail++
	}
	printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
	exit fail != 0
}
