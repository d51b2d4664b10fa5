/* report_out.c — the files of --out DIR (report_out.h): the summary, then
 * each report in turn from the kept program and event log. */
#include "lab/report_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/chrome.h"
#include "reports/gantt.h"
#include "reports/graph.h"
#include "reports/timeline.h"

/* dir/name into buf; EINPUT when it does not fit. */
static sft_status join(char *buf, size_t len, const char *dir, const char *name, sft_err *e)
{
    int k = snprintf(buf, len, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= len)
        return sft_errf(e, SFT_EINPUT, "--out %s: path too long for %s", dir, name);
    return SFT_OK;
}

static rep_src source(const scenario *s, const char *policy, const scen_result *r)
{
    SFT_CHECK(r->prog && r->eng, "report_out: policy %s ran without keeping its program", policy);
    rep_src x = {0};
    x.policy = policy;
    x.p = r->prog;
    x.r = r->eng;
    x.run = r->run;
    x.plans = (const plan *const *)r->plans;
    x.nplans = r->nplans;
    x.dp = s->par.dp;
    x.cp = s->par.cp;
    x.cat_name = s->fam->cat_name;
    x.ncats = s->fam->ncats;
    return x;
}

/* dir/summary.json: the --format json document (borrowed). */
static sft_status write_summary(const char *dir, const cJSON *summary, sft_err *e)
{
    char path[4096];
    sft_status st = join(path, sizeof path, dir, "summary.json", e);
    if (st) return st;
    char *text = cJSON_Print(summary);
    st = sft_write_file(path, text, strlen(text), e);
    cJSON_free(text);
    return st;
}

/* compare: groups per policy in the timeline, a schedule graph per policy. */
static sft_status write_all(const char *dir, const rep_src *src, int n, int compare,
                            const cJSON *summary, sft_err *e)
{
    sft_status st = sft_mkdir(dir, e);
    if (st) return st;
    char path[4096], path2[4096];
    if ((st = write_summary(dir, summary, e))) return st;
    const cJSON *scen = cJSON_GetObjectItemCaseSensitive(summary, "scenario");
    char *scen_text = scen ? cJSON_PrintUnformatted(scen) : NULL;
    const char *scen_json = scen_text ? scen_text : "{}";
    if (!(st = join(path, sizeof path, dir, "timeline.h5", e)))
        st = rep_timeline_write(path, src, n, compare, compare ? "compare" : "run", scen_json, e);
    if (!st && !(st = join(path, sizeof path, dir, "trace.json.gz", e)))
        st = rep_trace_write(path, src, n, scen_json, e);
    cJSON_free(scen_text);
    for (int i = 0; i < n && !st; i++) {
        char dot[300], svg[300];
        if (!compare) {
            snprintf(dot, sizeof dot, "schedule.dot");
            snprintf(svg, sizeof svg, "schedule.svg");
        } else {
            snprintf(dot, sizeof dot, "schedule-%s.dot", src[i].policy);
            snprintf(svg, sizeof svg, "schedule-%s.svg", src[i].policy);
        }
        if (!(st = join(path, sizeof path, dir, dot, e)) &&
            !(st = join(path2, sizeof path2, dir, svg, e)))
            st = rep_graph_write(path, path2, &src[i], ROUT_STEP, e);
    }
    if (!st && !(st = join(path, sizeof path, dir, "gantt.png", e)) &&
        !(st = join(path2, sizeof path2, dir, "gantt.svg", e)))
        st = rep_gantt_write(path, path2, src, n, ROUT_STEP, e);
    return st;
}

sft_status rout_run(const char *dir, const scenario *s, const char *policy, const scen_result *r,
                    const cJSON *summary, sft_err *e)
{
    rep_src src = source(s, policy, r);
    return write_all(dir, &src, 1, 0, summary, e);
}

sft_status rout_compare(const char *dir, const scenario *s, const char *const *policies, int n,
                        scen_result *const *res, const cJSON *summary, sft_err *e)
{
    rep_src *src = sft_xcalloc((size_t)n, sizeof *src);
    for (int i = 0; i < n; i++) src[i] = source(s, policies[i], res[i]);
    sft_status st = write_all(dir, src, n, 1, summary, e);
    free(src);
    return st;
}

sft_status rout_schedule(const char *dir, const scenario *s, const char *policy,
                         const scen_result *r, const cJSON *summary, sft_err *e)
{
    rep_src src = {0};
    src.policy = policy;
    src.plans = (const plan *const *)r->plans;
    src.nplans = r->nplans;
    src.dp = s->par.dp;
    src.cp = s->par.cp;
    sft_status st = sft_mkdir(dir, e);
    if (st) return st;
    char path[4096], path2[4096];
    if ((st = write_summary(dir, summary, e))) return st;
    if (!(st = join(path, sizeof path, dir, "schedule.dot", e)) &&
        !(st = join(path2, sizeof path2, dir, "schedule.svg", e)))
        st = rep_graph_write(path, path2, &src, ROUT_STEP, e);
    return st;
}
