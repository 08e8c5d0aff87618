/* reproduce.sh's text (see reproduce.h). */
#include <stdlib.h>
#include <string.h>

#include "reproduce.h"
#include "util.h"

char *one_line(const char *s)
{
	char *t = xstrdup(s);
	for (char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return t;
}

char *reproduce_script(const struct experiment *x, const char *id, const char *commit, const char *command,
		       const char *params)
{
	struct strv pols = { 0 };
	bool any_external = false;
	for (size_t i = 0; i < x->npol; i++) {
		any_external |= x->pol[i].external;
		strv_push(&pols, x->pol[i].external ? cfg_get(&x->pol[i].cfg, "policy", "spec") : x->pol[i].name);
	}
	/* with an external policy, ';' separates policies (its arguments have spaces); a trailing ';'
	 * keeps a single external policy with arguments in one piece */
	char *pj = strv_join(&pols, any_external ? ";" : " ");
	if (any_external) {
		char *t = xasprintf("%s;", pj);
		free(pj);
		pj = t;
	}
	char *qp = shell_quote(pj), *qm = shell_quote(x->monitors), *qa = shell_quote(params ? params : "");
	char *qc = shell_quote(x->has_tree ? x->tree.name : "");
	char *qcmd = one_line(command ? command : "(not given)");
	char *reps = x->precision_pct > 0 ? xasprintf("PRECISION=%g MAX_REPEATS=%ld", x->precision_pct, x->repeats)
					  : xasprintf("REPEATS=%ld", x->repeats);
	/* the accelerator that ran, so that a rerun on a machine without it fails clearly rather than
	 * making a result that cannot be compared (none under TARGET=host: nothing to pin); and under
	 * the virtual clock its time model, the icount shift, which a VM config's default could change */
	const char *kind = x->accel_kind ? x->accel_kind : "none";
	char *accel = !strcmp(kind, "none")    ? xstrdup("")
		      : x->icount_shift >= 0 ? xasprintf(" ACCEL=%s ICOUNT_SHIFT=%ld", kind, x->icount_shift)
					     : xasprintf(" ACCEL=%s", kind);
	char *text = xasprintf(
		   "#!/bin/sh\n"
		   "# Reruns the experiment behind this result directory (%s).\n"
		   "# It was made by scxlab commit %s; run it with a checkout of that commit.\n"
		   "# Original command: %s\n"
		   "# VAR=value arguments override the values below, e.g. DURATION=2 REPEATS=1 RESULTS=/tmp/r.\n"
		   "set -e\n"
		   "is_checkout() { [ -f \"$1/Makefile\" ] && [ -f \"$1/runners/host/scxlab.c\" ]; }\n"
		   "find_checkout() {\n"
		   "    d=$1\n"
		   "    while [ -n \"$d\" ] && [ \"$d\" != / ]; do is_checkout \"$d\" && { echo \"$d\"; return 0; }; "
		   "d=$(dirname \"$d\"); done\n"
		   "    return 1\n"
		   "}\n"
		   "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
		   "repo=${SCXLAB_REPO:-$(find_checkout \"$here\" || find_checkout \"$(pwd)\" || true)}\n"
		   "is_checkout \"$repo\" || { echo \"reproduce.sh: no scxlab checkout found above $here or $(pwd); set "
		   "SCXLAB_REPO=/path/to/scxlab\" >&2; exit 2; }\n"
		   "cd \"$repo\"\n"
		   "[ \"$(git rev-parse HEAD 2>/dev/null)\" = %s ] || echo \"reproduce.sh: note: $repo is not at commit "
		   "%s\" >&2\n"
		   "exec make compare POLICIES=%s WORKLOAD=%s DURATION=%ld %s CLOCK=%s%s TARGET=%s VM=%s MONITORS=%s CGROUPS=%s "
		   "PARAMS=%s \"$@\"\n",
		   id, commit, qcmd, commit, commit, qp, x->wl.name, x->duration, reps, x->clock, accel, x->target,
		   x->vm_name, qm, qc, qa);
	free(accel);
	free(qa);
	free(qc);
	free(qcmd);
	free(reps);
	free(qp);
	free(qm);
	free(pj);
	strv_free(&pols);
	return text;
}
