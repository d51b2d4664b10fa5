/* bench_reports.c — how fast the reports are written for a 1024-GPU step
 * (issue 6 target: >= 5 M events/s into the HDF5 timeline). The step is
 * simulated in a child (its own SimGrid platform); each writer is timed
 * alone on the same event log, into /tmp/sftsim-bench-reports. */
#include <stdlib.h>
#include <sys/stat.h>

#include "bench/bench.h"
#include "reports/chrome.h"
#include "reports/gantt.h"
#include "reports/timeline.h"
#include "lab/scenario.h"
#include "base/iso.h"

#define OUT_DIR "/tmp/sftsim-bench-reports"

static long size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int child(void *arg, FILE *out)
{
    (void)arg;
    char *argv[] = {"bench", "--gpus", "1024", "--dp", "128", "--cp", "8", "--steps", "1", NULL};
    scen_opts o;
    scenario s;
    sft_err e;
    if (scen_parse(9, argv, "bench", &o, NULL, NULL, NULL, &e) || scen_resolve(&o, &s, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    scen_result *r;
    if (scen_simulate(&s, s.policy, 1, &r, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        scen_release(&s);
        return 1;
    }
    rep_src src = {
        s.policy->name, r->prog,  r->eng,   r->run,          (const plan *const *)r->plans,
        r->nplans,      s.par.dp, s.par.cp, s.fam->cat_name, s.fam->ncats};
    sft_status st = sft_mkdir(OUT_DIR, &e);
    double t0 = sft_wall(), th = 0, tt = 0, tg = 0;
    if (!st) st = rep_timeline_write(OUT_DIR "/timeline.h5", &src, 1, 0, "run", "{}", &e);
    if (!st) {
        th = sft_wall() - t0;
        t0 = sft_wall();
        st = rep_trace_write(OUT_DIR "/trace.json.gz", &src, 1, "{}", &e);
    }
    if (!st) {
        tt = sft_wall() - t0;
        t0 = sft_wall();
        st = rep_gantt_write(OUT_DIR "/gantt.png", OUT_DIR "/gantt.svg", &src, 1, 0, &e);
        tg = sft_wall() - t0;
    }
    if (st)
        fprintf(stderr, "%s\n", e.msg);
    else
        fprintf(out, "%llu %.6f %.6f %.6f %ld %ld\n", (unsigned long long)prog_total_ops(r->prog),
                th, tt, tg, size_of(OUT_DIR "/timeline.h5"), size_of(OUT_DIR "/trace.json.gz"));
    scen_result_destroy(r);
    scen_release(&s);
    return st ? 1 : 0;
}

void bench_reports(void)
{
    printf("== reports: writers on one 1024-GPU step (DP 128 x CP 8, deepspeed) ==\n");
    char *out = NULL;
    int code;
    sft_err e;
    unsigned long long ev;
    double th, tt, tg;
    long sh, st;
    if (iso_run(child, NULL, &out, NULL, &code, &e) || code ||
        sscanf(out, "%llu %lf %lf %lf %ld %ld", &ev, &th, &tt, &tg, &sh, &st) != 6) {
        printf("reports benchmark failed\n");
        free(out);
        return;
    }
    printf("%-34s %8.2f M events/s (%llu events in %.3f s, %.1f MB; target >= 5 M/s)\n",
           "HDF5 timeline (timeline.h5)", ev / th / 1e6, ev, th, sh / 1e6);
    printf("%-34s %8.2f M events/s (%.3f s, %.1f MB)\n", "Chrome trace (trace.json.gz)",
           ev / tt / 1e6, tt, st / 1e6);
    printf("%-34s %8.3f s (64 of 1024 GPUs drawn, PNG + SVG)\n", "Gantt chart", tg);
    free(out);
}
