/* A sweep record's logic and its lock (see sweeprec.h); unit-tested in tests/unit/test_sweeprec.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sweeprec.h"

bool sweeprec_done(json_t *points, const char *label)
{
	return json_is_true(json_object_get(json_object_get(points, label), "valid"));
}

/* The last component of a result path: results of a sweep's points live in its folder. */
static const char *result_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

void sweeprec_record(json_t *points, const char *label, const char *result, int rc, bool interrupted,
		     const char *now)
{
	json_t *pt = json_object_get(points, label);
	if (!pt) {
		pt = json_pack("{s:n, s:b}", "result", "valid", 0);	/* these two first, for the reader */
		json_object_set_new(points, label, pt);
	}
	json_t *att = json_object_get(pt, "attempts");
	if (!json_is_array(att)) {
		att = json_array();
		if (json_is_string(json_object_get(pt, "result")))
			json_array_append_new(att, json_pack("{s:i, s:O, s:b, s:O?, s:b}", "attempt", 1, "result",
							     json_object_get(pt, "result"), "valid",
							     json_is_true(json_object_get(pt, "valid")), "finished",
							     json_object_get(pt, "finished"), "interrupted", 0));
		json_object_set_new(pt, "attempts", att);
	}
	size_t k = json_array_size(att) + 1, i;
	json_t *a;
	json_array_foreach(att, i, a)
		if (!json_is_integer(json_object_get(a, "superseded_by")))
			json_object_set_new(a, "superseded_by", json_integer((json_int_t)k));
	bool valid = rc == EXIT_OK && result;
	json_array_append_new(att, json_pack("{s:i, s:s?, s:b, s:i, s:s, s:b, s:n}", "attempt", (int)k, "result",
					     result_name(result), "valid", valid, "exit_code", rc, "finished", now,
					     "interrupted", interrupted, "superseded_by"));
	json_object_set_new(pt, "result", result ? json_string(result_name(result)) : json_null());
	json_object_set_new(pt, "valid", json_boolean(valid));
	json_object_set_new(pt, "exit_code", json_integer(rc));
	json_object_set_new(pt, "finished", json_string(now));
}

void sweeprec_note_jobs(json_t *points, const char *label, long jobs, long at_once)
{
	json_t *att = json_object_get(json_object_get(points, label), "attempts");
	json_t *last = json_array_get(att, json_array_size(att) - 1);
	if (jobs <= 0 || !last)
		return;
	json_object_set_new(last, "jobs", json_integer(jobs));
	json_object_set_new(last, "guests_at_once", json_integer(at_once));
}

char *sweeprec_not_done(json_t *points, const char *label)
{
	json_t *pt = json_object_get(points, label);
	if (!pt)
		return xstrdup("not run yet");
	json_t *att = json_object_get(pt, "attempts");
	size_t n = json_array_size(att);
	json_t *last = n ? json_array_get(att, n - 1) : pt;
	const char *res = json_string_value(json_object_get(last, "result"));
	json_t *rc = json_object_get(last, "exit_code");
	struct strv why = { 0 };
	strv_push(&why, json_is_true(json_object_get(last, "interrupted")) ? "interrupted" : "not valid");
	if (res)
		strv_pushf(&why, "result %s", result_name(res));
	else
		strv_push(&why, "no result");
	if (json_is_integer(rc))
		strv_pushf(&why, "runner exit code %lld", (long long)json_integer_value(rc));
	if (n > 1)
		strv_pushf(&why, "%zu attempts", n);
	char *s = strv_join(&why, ", ");
	strv_free(&why);
	return s;
}

char *sweeprec_pending_array(json_t *state, struct err *e)
{
	json_t *labels = json_object_get(state, "point_labels"), *points = json_object_get(state, "points");
	if (!json_is_array(labels)) {
		errf(e, "the sweep record has no point_labels list");
		return NULL;
	}
	struct strv parts = { 0 };
	size_t n = json_array_size(labels);
	for (size_t i = 0; i < n;) {
		if (sweeprec_done(points, json_string_value(json_array_get(labels, i)) ?: "")) {
			i++;
			continue;
		}
		size_t j = i;	/* a run of points not done: i..j */
		while (j + 1 < n && !sweeprec_done(points, json_string_value(json_array_get(labels, j + 1)) ?: ""))
			j++;
		if (j == i)
			strv_pushf(&parts, "%zu", i);
		else
			strv_pushf(&parts, "%zu-%zu", i, j);
		i = j + 1;
	}
	char *s = strv_join(&parts, ",");
	strv_free(&parts);
	return s;
}

int sweeprec_point_at(json_t *state, const char *index, const char **label, struct strv *argv, struct err *e)
{
	json_t *labels = json_object_get(state, "point_labels"), *args = json_object_get(state, "point_args");
	char *end;
	errno = 0;
	unsigned long long k = index && *index >= '0' && *index <= '9' ? strtoull(index, &end, 10) : 0;
	if (!index || *index < '0' || *index > '9' || *end || errno)
		return errf(e, "array index '%s' is not a whole number", index ? index : "(none)");
	if (!json_is_array(labels) || k >= json_array_size(labels))
		return errf(e, "array index %llu is outside the sweep's %zu points", k, json_array_size(labels));
	if (!json_is_array(args) || json_array_size(args) != json_array_size(labels))
		return errf(e, "the sweep record has no runner arguments for its points (point_args); "
			    "submit it again with EXECUTOR=slurm");
	json_t *a = json_array_get(args, k), *w;
	*label = json_string_value(json_array_get(labels, k));
	if (!*label || !json_is_array(a) || !json_is_string(json_array_get(a, 0)) ||
	    strcmp(json_string_value(json_array_get(a, 0)), "run"))
		return errf(e, "the sweep record's point %llu is malformed (a label and arguments beginning "
			    "with \"run\" were expected)", k);
	size_t i;
	json_array_foreach(a, i, w) {
		if (!json_is_string(w))
			return errf(e, "the sweep record's arguments of point %llu are not all text", k);
	}
	json_array_foreach(a, i, w)
		strv_push(argv, json_string_value(w));
	return 0;
}

void sweeprec_save(const char *path, json_t *state)
{
	char *tmp = xasprintf("%s.tmp", path);
	if (json_dump_file(state, tmp, JSON_INDENT(2)) || rename(tmp, path))
		die(EXIT_INFRA, "cannot write sweep state %s: %s", path, strerror(errno));
	free(tmp);
}

/* The record's lock (see the header comment): held from reading sweep.json to replacing it.
 * Close-on-exec, so that a point's runner never holds it. */
int sweeprec_lock(const char *sdir)
{
	char *lpath = xasprintf("%s/sweep.json.lock", sdir);
	int fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		die(EXIT_INFRA, "cannot open the sweep's lock %s: %s", lpath, strerror(errno));
	while (flock(fd, LOCK_EX))
		if (errno != EINTR)
			die(EXIT_INFRA, "cannot lock %s: %s", lpath, strerror(errno));
	free(lpath);
	return fd;
}

void sweeprec_unlock(int fd)
{
	close(fd);
}

/* The record as it is now (NULL when there is none). A record that cannot be read is never
 * replaced: it is all that says which points are done. */
json_t *sweeprec_load(const char *spath)
{
	if (!path_exists(spath))
		return NULL;
	json_error_t jerr;
	json_t *state = json_load_file(spath, 0, &jerr);
	if (!json_is_object(json_object_get(state, "points")))
		die(EXIT_USAGE, "%s:%d: not a sweep record (%s); repair it or move it away to start the sweep afresh",
		    spath, state ? 0 : jerr.line, state ? "no \"points\" object" : jerr.text);
	return state;
}

/* Records one attempt of a point under the lock, into the record as it is on disk (another
 * writer may have recorded other points since): returns that record, old one released. */
json_t *sweeprec_record_locked(const char *sdir, const char *spath, json_t *old, const char *label, const char *result,
			     int rc, bool interrupted, long jobs, long at_once)
{
	int fd = sweeprec_lock(sdir);
	json_t *state = sweeprec_load(spath);
	if (!state)
		die(EXIT_INFRA, "%s disappeared while point %s ran; its result %s is kept but not recorded", spath,
		    label, result ? result : "(none)");
	char *now = iso_time_now();
	sweeprec_record(json_object_get(state, "points"), label, result, rc, interrupted, now);
	sweeprec_note_jobs(json_object_get(state, "points"), label, jobs, at_once);
	free(now);
	sweeprec_save(spath, state);
	sweeprec_unlock(fd);
	json_decref(old);
	return state;
}

/* Whether a point is done in the record as it is on disk now. */
bool sweeprec_done_now(const char *sdir, const char *spath, const char *label)
{
	int fd = sweeprec_lock(sdir);
	json_t *state = sweeprec_load(spath);
	bool done = state && sweeprec_done(json_object_get(state, "points"), label);
	json_decref(state);
	sweeprec_unlock(fd);
	return done;
}
