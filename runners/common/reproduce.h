/*
 * reproduce.sh's text (pure: the host runner writes it into each result folder). The script is
 * the make command that reruns the experiment with every factor spelled out, each value
 * quoted for a shell. It runs from any place the result folder is moved to: it looks for the
 * checkout in SCXLAB_REPO, then above its own folder, then above the current folder. VAR=value
 * arguments override the recorded values (`./reproduce.sh DURATION=2 REPEATS=1 RESULTS=/tmp/r`:
 * make takes the last).
 */
#ifndef SCXLAB_REPRODUCE_H
#define SCXLAB_REPRODUCE_H
#include "experiment.h"

/* s on one line (for a comment in a script): line breaks and other control characters as '?'.
 * Caller frees. */
char *one_line(const char *s);
/*
 * The script for experiment x, result id, made at commit; command is what the user typed
 * (NULL: "(not given)", kept on one comment line), params the PARAMS= given (NULL: none).
 * Policies are joined with ' ', or with ';' and a trailing ';' when one is external (its
 * arguments have spaces; the trailing ';' keeps a single external policy in one piece).
 * Caller frees.
 */
char *reproduce_script(const struct experiment *x, const char *id, const char *commit, const char *command,
		       const char *params);

#endif
