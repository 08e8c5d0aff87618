/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mltrace_csv.h - reads the trace CSV that the mlyield loader writes in --mode trace
 * (columns documented in schedulers/mlyield/mlyield.c). Used by tools/mltrain and by
 * tests/unit/test_mlyield_nn.c, so both read a trace the same way.
 *
 * The format is plain enough that no CSV library is needed: the loader writes no quotes,
 * task names are reduced to [A-Za-z0-9._-], and every other field is an integer or a word.
 * Columns are found by their header names, so added columns do not break old readers; the
 * 64 feature columns must be exactly x_<name> in model input order. Any malformed line is an
 * error that names the file and line.
 */
#ifndef SCXLAB_MLTRACE_CSV_H
#define SCXLAB_MLTRACE_CSV_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../schedulers/mlyield/mlyield.h"
#include "../../schedulers/mlyield/mlyield_model.h"

enum mly_outcome { MLY_OUT_STOP, MLY_OUT_LOST, MLY_OUT_CENSORED };

struct mly_trace_row {
	unsigned long long t_ns;
	long long after_ns;		/* stop_after_ns */
	long long logit;		/* the trace-time model's fixed-point logit */
	int outcome;			/* enum mly_outcome */
	int voluntary;			/* -1 when empty */
	int pred;
	int inc_pid;
	int idle_available;		/* a real keep-or-migrate decision point */
	char inc_comm[MLY_COMM_LEN];	/* the incumbent's task name */
	__u16 x[MLY_NR_FEATURES];
};

struct mly_trace {
	struct mly_trace_row *rows;
	size_t nr, cap;
	char model_fingerprint[32];	/* from the "# model_fingerprint:" line, "" if absent */
	size_t nr_stop, nr_lost, nr_censored;
};

enum { COL_T, COL_INC_PID, COL_INC_COMM, COL_IDLE, COL_LOGIT, COL_PRED, COL_OUTCOME, COL_AFTER,
       COL_VOLUNTARY, NR_COLS };
static const char *const mly_trace_cols[NR_COLS] = {
	"t_ns", "inc_pid", "inc_comm", "idle_available", "logit", "pred", "outcome", "stop_after_ns",
	"voluntary",
};

static inline int mly_trace_parse_ll(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

/* Splits line in place at commas; returns the number of fields (at most max). */
static inline int mly_trace_split(char *line, char **f, int max)
{
	int n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, ',');
		if (!line)
			break;
		*line++ = '\0';
	}
	return line ? max + 1 : n;
}

/*
 * Appends the rows read from in to t; path names the trace in messages (the stream may be a
 * decompressed copy of it). Returns 0, or -1 with a message naming file:line in err. Does not
 * close in.
 */
static inline int mly_trace_read_stream(FILE *in, const char *path, struct mly_trace *t, char *err, size_t len)
{
	enum { MAX_FIELDS = 256 };
	int col[NR_COLS], xcol = -1, nf, nhead = 0, i;
	char *line = NULL, *f[MAX_FIELDS + 1];
	size_t cap = 0, lineno = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, in)) > 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (line[0] == '#') {
			const char *k = "# model_fingerprint: ";

			if (!strncmp(line, k, strlen(k)))
				snprintf(t->model_fingerprint, sizeof(t->model_fingerprint), "%s", line + strlen(k));
			continue;
		}
		if (!n)
			continue;
		nf = mly_trace_split(line, f, MAX_FIELDS);
		if (nf > MAX_FIELDS)
			goto bad_line;
		if (!nhead) {
			nhead = nf;
			for (i = 0; i < NR_COLS; i++) {
				int c;

				for (c = 0; c < nf && strcmp(f[c], mly_trace_cols[i]); c++)
					;
				if (c == nf) {
					snprintf(err, len, "%s:%zu: the header has no column '%s' (is this an "
						 "mlyield trace?)", path, lineno, mly_trace_cols[i]);
					goto fail;
				}
				col[i] = c;
			}
			for (i = 0; i < nf && strcmp(f[i], "x_read"); i++)
				;
			if (i + MLY_NR_FEATURES > nf) {
				snprintf(err, len, "%s:%zu: the header lacks the 64 feature columns x_read .. x_other",
					 path, lineno);
				goto fail;
			}
			xcol = i;
			for (i = 0; i < MLY_NR_FEATURES; i++) {
				if (strncmp(f[xcol + i], "x_", 2) || strcmp(f[xcol + i] + 2, mly_feature_names[i])) {
					snprintf(err, len, "%s:%zu: feature column %d is '%s', expected 'x_%s' (trace "
						 "made with other features)", path, lineno, i, f[xcol + i],
						 mly_feature_names[i]);
					goto fail;
				}
			}
			continue;
		}
		if (nf != nhead)
			goto bad_line;
		if (t->nr == t->cap) {
			size_t ncap = t->cap ? 2 * t->cap : 4096;
			struct mly_trace_row *r = realloc(t->rows, ncap * sizeof(*r));

			if (!r) {
				snprintf(err, len, "%s: out of memory at line %zu", path, lineno);
				goto fail;
			}
			t->rows = r;
			t->cap = ncap;
		}
		{
			struct mly_trace_row *r = &t->rows[t->nr];
			long long v;

			memset(r, 0, sizeof(*r));
			if (mly_trace_parse_ll(f[col[COL_T]], &v) || v < 0)
				goto bad_line;
			r->t_ns = v;
			if (mly_trace_parse_ll(f[col[COL_INC_PID]], &v))
				goto bad_line;
			r->inc_pid = v;
			if (strlen(f[col[COL_INC_COMM]]) >= MLY_COMM_LEN)
				goto bad_line;
			strcpy(r->inc_comm, f[col[COL_INC_COMM]]);
			if (mly_trace_parse_ll(f[col[COL_IDLE]], &v) || (v != 0 && v != 1))
				goto bad_line;
			r->idle_available = v;
			if (mly_trace_parse_ll(f[col[COL_LOGIT]], &r->logit))
				goto bad_line;
			if (mly_trace_parse_ll(f[col[COL_PRED]], &v) || (v != 0 && v != 1))
				goto bad_line;
			r->pred = v;
			if (!strcmp(f[col[COL_OUTCOME]], "stop"))
				r->outcome = MLY_OUT_STOP;
			else if (!strcmp(f[col[COL_OUTCOME]], "lost"))
				r->outcome = MLY_OUT_LOST;
			else if (!strcmp(f[col[COL_OUTCOME]], "censored"))
				r->outcome = MLY_OUT_CENSORED;
			else
				goto bad_line;
			if (mly_trace_parse_ll(f[col[COL_AFTER]], &r->after_ns))
				goto bad_line;
			r->voluntary = -1;
			if (f[col[COL_VOLUNTARY]][0]) {
				if (mly_trace_parse_ll(f[col[COL_VOLUNTARY]], &v) || (v != 0 && v != 1))
					goto bad_line;
				r->voluntary = v;
			}
			if (r->outcome == MLY_OUT_STOP && r->voluntary < 0)
				goto bad_line;
			for (i = 0; i < MLY_NR_FEATURES; i++) {
				if (mly_trace_parse_ll(f[xcol + i], &v) || v < 0 || v > MLY_X_MAX)
					goto bad_line;
				r->x[i] = v;
			}
			t->nr_stop += r->outcome == MLY_OUT_STOP;
			t->nr_lost += r->outcome == MLY_OUT_LOST;
			t->nr_censored += r->outcome == MLY_OUT_CENSORED;
			t->nr++;
		}
	}
	if (ferror(in)) {
		snprintf(err, len, "%s: read error after line %zu", path, lineno);
		goto fail;
	}
	if (!nhead) {
		snprintf(err, len, "%s: no header line (empty trace?)", path);
		goto fail;
	}
	free(line);
	return 0;

bad_line:
	snprintf(err, len, "%s:%zu: malformed row (expected %d comma-separated fields: integers, an "
		 "outcome of stop|lost|censored, features 0..%d)", path, lineno, nhead, MLY_X_MAX);
fail:
	free(line);
	return -1;
}

/* Appends the rows of the plain CSV file path to t; as mly_trace_read_stream(). */
static inline int mly_trace_read(const char *path, struct mly_trace *t, char *err, size_t len)
{
	FILE *in = fopen(path, "r");
	int rc;

	if (!in) {
		snprintf(err, len, "cannot open trace %s: %s", path, strerror(errno));
		return -1;
	}
	rc = mly_trace_read_stream(in, path, t, err, len);
	fclose(in);
	return rc;
}

#endif /* SCXLAB_MLTRACE_CSV_H */
