/* The workload's scripts (start, client, stop) as the agent runs them for each instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

/* The value of key in a "key=value ..." override list, or NULL. */
static char *override_of(const char *overrides, const char *key)
{
	struct strv w = { 0 };
	char *found = NULL;
	strv_split_push(&w, overrides ? overrides : "");
	for (size_t i = 0; i < w.n && !found; i++) {
		char *eq = strchr(w.v[i], '=');
		if (eq && (size_t)(eq - w.v[i]) == strlen(key) && !strncmp(w.v[i], key, eq - w.v[i]))
			found = xstrdup(eq + 1);
	}
	strv_free(&w);
	return found;
}

void workload_env(struct agent *a, const struct inst *in, size_t ninst, const char *out, long duration,
		  struct strv *envp)
{
	struct strv env = { 0 };
	const char *wdir = cfg_get(&a->plan, "workload", "dir");
	strv_pushf(&env, "SCXLAB_OUT=%s", out);
	strv_pushf(&env, "SCXLAB_DURATION=%ld", duration);
	strv_pushf(&env, "SCXLAB_WORKLOAD_DIR=%s/%s", a->job_dir, wdir);
	strv_pushf(&env, "SCXLAB_INSTANCE=%d", in->k);
	strv_pushf(&env, "SCXLAB_INSTANCES=%zu", ninst);
	for (size_t i = 0; i < a->plan.n; i++) {
		if (strcmp(a->plan.v[i].section, "workload.params"))
			continue;
		char *key = xstrdup(a->plan.v[i].key), *over = override_of(in->params, key);
		for (char *p = key; *p; p++)
			*p = (*p >= 'a' && *p <= 'z') ? *p - 32 : (*p == '-' ? '_' : *p);
		strv_pushf(&env, "WL_%s=%s", key, over ? over : a->plan.v[i].value);
		free(over);
		free(key);
	}
	*envp = env;	/* the caller frees it once the child is started (the child has its own copy) */
}

char *script_path(struct agent *a, const char *which)
{
	return xasprintf("%s/%s/%s", a->job_dir, cfg_get(&a->plan, "workload", "dir"),
			 cfg_get(&a->plan, "workload", which));
}

/* A workload script of one instance, run to completion in the instance's cgroup. */
int run_script(struct run *r, struct inst *in, const char *which, long duration, double timeout,
		      const char *log)
{
	char *script = script_path(r->a, which);
	char *argv[] = { script, NULL };
	char *logp = xasprintf("%s/%s", in->out, log);
	struct strv env;
	workload_env(r->a, in, r->ninst, in->out, duration, &env);
	int rc = run_cmd_in(argv, logp, env.v, in->out, timeout, in->cg);
	strv_free(&env);
	free(logp);
	free(script);
	return rc;
}

/* The instance number in messages, only when there are several. */
const char *inst_label(struct run *r, struct inst *in, char *buf, size_t len)
{
	if (r->ninst > 1)
		snprintf(buf, len, " (instance %d)", in->k);
	else
		buf[0] = '\0';
	return buf;
}
