/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mlyield_model.h - the model file of the yield predictor, read in user space (C only, with
 * jansson): by the loader (mlyield.c), by tools/mltrain (which writes it) and by
 * tests/unit/test_mlyield_nn.c. One reader, so the three agree on what a file means.
 *
 * A model file is JSON written by tools/mltrain/mltrain:
 *   format        "scxlab-mlyield-model/1"
 *   feature_id    MLY_FEATURE_ID of the features it was trained on (checked)
 *   features      the 64 feature names, in input order (checked against MLY_SYSCALLS)
 *   hidden        16
 *   label         {"horizon_us": H, "definition": "..."}
 *   float         the trained network in double precision: w1 [64][16] (feature-major),
 *                 b1 [16], w2 [16], b2, threshold_logit
 *   fixed         what the kernel runs: w1_shift, w2_shift, w1 [64][16], b1, w2, b2,
 *                 threshold (integers, see mlyield_nn.h), fingerprint (hex, checked)
 *   training      seed, hyper-parameters, split, row counts, metrics
 *   provenance    traces (path, sha256, rows), code (git commit, dirty flag, source hashes)
 */
#ifndef SCXLAB_MLYIELD_MODEL_H
#define SCXLAB_MLYIELD_MODEL_H

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include "mlyield_nn.h"

#define MLY_MODEL_FORMAT "scxlab-mlyield-model/1"

struct mly_model {
	struct mly_nn_fixed fx;
	double w1[MLY_NR_FEATURES][MLY_NR_HIDDEN];
	double b1[MLY_NR_HIDDEN];
	double w2[MLY_NR_HIDDEN];
	double b2;
	double threshold_logit;
	double horizon_us;
	__u64 fingerprint;
};

#define MLY_NAME_STR(bucket, nr, name) [bucket] = #name,
static const char *const mly_feature_names[MLY_NR_FEATURES] = {
	MLY_SYSCALLS(MLY_NAME_STR)
	[MLY_BUCKET_OTHER] = "other",
};
#undef MLY_NAME_STR

/* The float network's logit for Q8 features x (the reference the fixed point approximates). */
static inline double mly_float_logit(const struct mly_model *m, const __u16 x[MLY_NR_FEATURES],
				     double hidden_out[MLY_NR_HIDDEN])
{
	double out = m->b2;
	int i, j;

	for (j = 0; j < MLY_NR_HIDDEN; j++) {
		double h = m->b1[j];

		for (i = 0; i < MLY_NR_FEATURES; i++)
			h += m->w1[i][j] * (x[i] / (double)(1 << MLY_X_SHIFT));
		h = h > 0 ? h : 0;
		if (hidden_out)
			hidden_out[j] = h;
		out += m->w2[j] * h;
	}
	return out;
}

static inline int mly_model_err(char *err, size_t len, const char *what, const char *key)
{
	snprintf(err, len, "%s%s%s", what, key ? ": " : "", key ? key : "");
	return -1;
}

/* Reads a number array of exactly n entries from obj[key] (or from obj itself if key is NULL). */
static inline int mly_json_doubles(json_t *obj, const char *key, double *out, size_t n,
				   char *err, size_t len)
{
	json_t *a = key ? json_object_get(obj, key) : obj;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) != n) {
		snprintf(err, len, "\"%s\" must be an array of %zu numbers", key ? key : "w1 row", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!json_is_number(json_array_get(a, i))) {
			snprintf(err, len, "\"%s\"[%zu] is not a number", key ? key : "w1 row", i);
			return -1;
		}
		out[i] = json_number_value(json_array_get(a, i));
	}
	return 0;
}

static inline int mly_json_ints(json_t *obj, const char *key, long long *out, size_t n,
				char *err, size_t len)
{
	json_t *a = key ? json_object_get(obj, key) : obj;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) != n) {
		snprintf(err, len, "\"%s\" must be an array of %zu integers", key ? key : "w1 row", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!json_is_integer(json_array_get(a, i))) {
			snprintf(err, len, "\"%s\"[%zu] is not an integer", key ? key : "w1 row", i);
			return -1;
		}
		out[i] = json_integer_value(json_array_get(a, i));
	}
	return 0;
}

/*
 * Fill m from a parsed model file. Returns 0, or -1 with a message in err that names the
 * problem (wrong format or features, missing or malformed field, weights outside the ranges
 * that make the fixed-point arithmetic overflow-free, fingerprint mismatch).
 */
static inline int mly_model_from_json(json_t *doc, struct mly_model *m, char *err, size_t len)
{
	json_t *fl, *fx, *names, *label, *v;
	long long ints[MLY_NR_FEATURES > MLY_NR_HIDDEN ? MLY_NR_FEATURES : MLY_NR_HIDDEN];
	const char *s;
	char hex[32];
	int i, j;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(doc))
		return mly_model_err(err, len, "not a JSON object", NULL);
	s = json_string_value(json_object_get(doc, "format"));
	if (!s || strcmp(s, MLY_MODEL_FORMAT))
		return mly_model_err(err, len, "\"format\" is not " MLY_MODEL_FORMAT, s);
	s = json_string_value(json_object_get(doc, "feature_id"));
	if (!s || strcmp(s, MLY_FEATURE_ID)) {
		snprintf(err, len, "trained on other features: feature_id '%s', this build computes '%s'",
			 s ? s : "(missing)", MLY_FEATURE_ID);
		return -1;
	}
	names = json_object_get(doc, "features");
	if (!json_is_array(names) || json_array_size(names) != MLY_NR_FEATURES)
		return mly_model_err(err, len, "\"features\" must list 64 names", NULL);
	for (i = 0; i < MLY_NR_FEATURES; i++) {
		s = json_string_value(json_array_get(names, i));
		if (!s || strcmp(s, mly_feature_names[i])) {
			snprintf(err, len, "feature %d is '%s', expected '%s'", i, s ? s : "(not a string)",
				 mly_feature_names[i]);
			return -1;
		}
	}
	if (json_integer_value(json_object_get(doc, "hidden")) != MLY_NR_HIDDEN)
		return mly_model_err(err, len, "\"hidden\" must be 16", NULL);
	label = json_object_get(doc, "label");
	v = json_object_get(label, "horizon_us");
	if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1e7)
		return mly_model_err(err, len, "\"label\".\"horizon_us\" must be a number in (0, 1e7]", NULL);
	m->horizon_us = json_number_value(v);

	fl = json_object_get(doc, "float");
	if (!json_is_object(fl))
		return mly_model_err(err, len, "missing object", "float");
	if (!json_is_array(json_object_get(fl, "w1")) ||
	    json_array_size(json_object_get(fl, "w1")) != MLY_NR_FEATURES)
		return mly_model_err(err, len, "\"float\".\"w1\" must have 64 rows (one per feature)", NULL);
	for (i = 0; i < MLY_NR_FEATURES; i++)
		if (mly_json_doubles(json_array_get(json_object_get(fl, "w1"), i), NULL, m->w1[i],
				     MLY_NR_HIDDEN, err, len))
			return -1;
	if (mly_json_doubles(fl, "b1", m->b1, MLY_NR_HIDDEN, err, len) ||
	    mly_json_doubles(fl, "w2", m->w2, MLY_NR_HIDDEN, err, len))
		return -1;
	if (!json_is_number(json_object_get(fl, "b2")) ||
	    !json_is_number(json_object_get(fl, "threshold_logit")))
		return mly_model_err(err, len, "\"float\" needs numbers b2 and threshold_logit", NULL);
	m->b2 = json_number_value(json_object_get(fl, "b2"));
	m->threshold_logit = json_number_value(json_object_get(fl, "threshold_logit"));

	fx = json_object_get(doc, "fixed");
	if (!json_is_object(fx))
		return mly_model_err(err, len, "missing object", "fixed");
	if (!json_is_integer(json_object_get(fx, "w1_shift")) ||
	    !json_is_integer(json_object_get(fx, "w2_shift")) ||
	    !json_is_integer(json_object_get(fx, "b2")) ||
	    !json_is_integer(json_object_get(fx, "threshold")))
		return mly_model_err(err, len, "\"fixed\" needs integers w1_shift, w2_shift, b2, threshold", NULL);
	if (json_integer_value(json_object_get(fx, "w1_shift")) < 0 ||
	    json_integer_value(json_object_get(fx, "w1_shift")) > MLY_SHIFT_MAX ||
	    json_integer_value(json_object_get(fx, "w2_shift")) < 0 ||
	    json_integer_value(json_object_get(fx, "w2_shift")) > MLY_SHIFT_MAX)
		return mly_model_err(err, len, "\"fixed\" shifts must be in 0..24", NULL);
	m->fx.w1_shift = json_integer_value(json_object_get(fx, "w1_shift"));
	m->fx.w2_shift = json_integer_value(json_object_get(fx, "w2_shift"));
	m->fx.b2 = json_integer_value(json_object_get(fx, "b2"));
	m->fx.threshold = json_integer_value(json_object_get(fx, "threshold"));
	if (!json_is_array(json_object_get(fx, "w1")) ||
	    json_array_size(json_object_get(fx, "w1")) != MLY_NR_FEATURES)
		return mly_model_err(err, len, "\"fixed\".\"w1\" must have 64 rows (one per feature)", NULL);
	for (i = 0; i < MLY_NR_FEATURES; i++) {
		if (mly_json_ints(json_array_get(json_object_get(fx, "w1"), i), NULL, ints,
				  MLY_NR_HIDDEN, err, len))
			return -1;
		for (j = 0; j < MLY_NR_HIDDEN; j++) {
			if (ints[j] > MLY_W_MAX || ints[j] < -MLY_W_MAX)
				return mly_model_err(err, len, "\"fixed\".\"w1\" entry outside +-32767", NULL);
			m->fx.w1[i][j] = ints[j];
		}
	}
	if (mly_json_ints(fx, "b1", ints, MLY_NR_HIDDEN, err, len))
		return -1;
	for (j = 0; j < MLY_NR_HIDDEN; j++)
		m->fx.b1[j] = ints[j];
	if (mly_json_ints(fx, "w2", ints, MLY_NR_HIDDEN, err, len))
		return -1;
	for (j = 0; j < MLY_NR_HIDDEN; j++) {
		if (ints[j] > MLY_W_MAX || ints[j] < -MLY_W_MAX)
			return mly_model_err(err, len, "\"fixed\".\"w2\" entry outside +-32767", NULL);
		m->fx.w2[j] = ints[j];
	}
	if (mly_nn_check(&m->fx))
		return mly_model_err(err, len, "\"fixed\" weights outside the overflow-free ranges "
				     "(|w| <= 32767, |b1| <= 2^40, |b2|, |threshold| <= 2^60)", NULL);
	m->fingerprint = mly_nn_fingerprint(&m->fx);
	snprintf(hex, sizeof(hex), "%016" PRIx64, (uint64_t)m->fingerprint);
	s = json_string_value(json_object_get(fx, "fingerprint"));
	if (!s || strcmp(s, hex)) {
		snprintf(err, len, "\"fixed\".\"fingerprint\" is '%s' but the weights hash to '%s' "
			 "(file edited by hand?)", s ? s : "(missing)", hex);
		return -1;
	}
	return 0;
}

/* Parse model text (the loader's embedded default, or a file's contents). */
static inline int mly_model_parse(const char *text, struct mly_model *m, char *err, size_t len)
{
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	int ret;

	if (!doc) {
		snprintf(err, len, "not valid JSON: line %d: %s", je.line, je.text);
		return -1;
	}
	ret = mly_model_from_json(doc, m, err, len);
	json_decref(doc);
	return ret;
}

static inline int mly_model_load_file(const char *path, struct mly_model *m, char *err, size_t len)
{
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	int ret;

	if (!doc) {
		snprintf(err, len, "cannot read %s: %s (line %d)", path, je.text, je.line);
		return -1;
	}
	ret = mly_model_from_json(doc, m, err, len);
	json_decref(doc);
	return ret;
}

#endif /* SCXLAB_MLYIELD_MODEL_H */
