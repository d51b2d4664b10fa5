/* gantt.c — the Gantt chart of a step through cairo (gantt.h).
 *
 * Each row is first reduced to runs of pixels of one class (what the GPU
 * mostly did during that pixel's time), so the drawing costs the same for a
 * hundred kernels or a million, and the SVG holds a few rectangles per row.
 */
#include "reports/gantt.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { K_COMPUTE, K_HOST, K_EXPOSED, K_IDLE, K_NCLASS };

static const double colour[K_NCLASS][3] = {
    {0.298, 0.447, 0.690}, /* compute: blue */
    {0.867, 0.518, 0.322}, /* host: orange */
    {0.769, 0.306, 0.322}, /* exposed communication: red */
    {0.925, 0.925, 0.925}, /* idle: light grey */
};
static const double strip_colour[3] = {0.506, 0.447, 0.702}; /* comm in flight: purple */
static const char *const class_label[K_NCLASS] = {"compute (kernels)", "host (framework, launches)",
                                                  "exposed communication",
                                                  "idle (waiting for other GPUs)"};

/* Page geometry, pixels. */
#define PAGE_W     1600
#define MARGIN_L   84
#define MARGIN_R   96
#define PLOT_W     (PAGE_W - MARGIN_L - MARGIN_R)
#define HEAD_H     98
#define PANEL_HEAD 26
#define AXIS_H     30
#define PANEL_GAP  12

typedef struct seg {
    int x0, x1; /* plot pixels [x0, x1) */
    int cls;    /* K_*, or K_NCLASS for the comm strip */
} seg;

typedef struct row {
    int gpu;
    seg *s;
    int ns;
} row;

typedef struct panel {
    const rep_src *src;
    int64_t lo, hi;   /* the step's window, ns */
    int nrows, every; /* a row per group of `every` GPUs */
    row *rows;
} panel;

typedef struct chart {
    panel *p;
    int n, step, rh, height;
    int64_t span; /* the longest step, ns: the shared scale */
} chart;

typedef struct iv {
    int64_t a, b;
} iv;

static int by_a(const void *x, const void *y)
{
    const iv *p = x, *q = y;
    return (p->a > q->a) - (p->a < q->a);
}

/* Adds the coverage of [a, b) (pixels) to acc. */
static void bin(float *acc, double a, double b, int w)
{
    if (a < 0) a = 0;
    if (b > w) b = w;
    if (b <= a) return;
    int ia = (int)a, ib = (int)b;
    if (ia == ib) {
        acc[ia] += (float)(b - a);
        return;
    }
    acc[ia] += (float)(ia + 1 - a);
    for (int k = ia + 1; k < ib; k++) acc[k] += 1;
    if (ib < w) acc[ib] += (float)(b - ib);
}

static void push_seg(row *r, size_t *cap, int x0, int x1, int cls)
{
    if (r->ns && r->s[r->ns - 1].cls == cls && r->s[r->ns - 1].x1 == x0) {
        r->s[r->ns - 1].x1 = x1;
        return;
    }
    SFT_GROW(r->s, *cap, (size_t)r->ns + 1);
    r->s[r->ns++] = (seg){x0, x1, cls};
}

/* Reduces GPU g's step window to runs of pixels (scale: pixels per ns). */
static void make_row(row *out, const panel *P, int g, double scale)
{
    const prog *p = P->src->p;
    const eng_result *r = P->src->r;
    float *acc = sft_xcalloc((size_t)4 * PLOT_W, sizeof *acc);
    int n = prog_nops(p, g, PROG_COMPUTE);
    int64_t *a = sft_xmalloc(((size_t)n + 1) * 2 * sizeof *a), *b = a + n + 1;
    rep_stream_ns(p, r, g, PROG_COMPUTE, a, b);
    const prog_op *o = prog_ops(p, g, PROG_COMPUTE);
    iv *busy = sft_xmalloc(((size_t)n + 1) * sizeof *busy);
    int nb = 0;
    for (int i = 0; i < n; i++) {
        if (o[i].kind != PK_COMPUTE && o[i].kind != PK_DELAY) continue;
        int64_t x = a[i] > P->lo ? a[i] : P->lo, y = b[i] < P->hi ? b[i] : P->hi;
        if (y <= x) continue;
        bin(acc + (o[i].kind == PK_COMPUTE ? K_COMPUTE : K_HOST) * PLOT_W,
            (double)(x - P->lo) * scale, (double)(y - P->lo) * scale, PLOT_W);
        busy[nb++] = (iv){x, y};
    }
    iv *comm = NULL;
    size_t ccap = 0;
    int nc = 0;
    for (int s = PROG_COMM; s < PROG_NSTREAMS; s++) {
        const prog_op *q = prog_ops(p, g, s);
        for (int i = 0; i < prog_nops(p, g, s); i++) {
            if (q[i].kind != PK_COLL) continue;
            int64_t x = rep_ns(r->coll_begin[q[i].ref]), y = rep_ns(r->coll_end[q[i].ref]);
            if (x < P->lo) x = P->lo;
            if (y > P->hi) y = P->hi;
            if (y <= x) continue;
            SFT_GROW(comm, ccap, (size_t)nc + 1);
            comm[nc++] = (iv){x, y};
        }
    }
    if (nc > 1) qsort(comm, (size_t)nc, sizeof *comm, by_a);
    int m = 0;
    for (int i = 0; i < nc; i++) {
        if (m && comm[i].a <= comm[m - 1].b) {
            if (comm[i].b > comm[m - 1].b) comm[m - 1].b = comm[i].b;
        } else {
            comm[m++] = comm[i];
        }
    }
    /* exposed: communication minus busy time (both sorted, disjoint) */
    int j = 0;
    for (int i = 0; i < m; i++) {
        bin(acc + 3 * PLOT_W, (double)(comm[i].a - P->lo) * scale,
            (double)(comm[i].b - P->lo) * scale, PLOT_W);
        int64_t x = comm[i].a;
        while (j < nb && busy[j].b <= x) j++;
        for (int k = j; x < comm[i].b; k++) {
            int64_t y = k < nb && busy[k].a < comm[i].b ? busy[k].a : comm[i].b;
            if (y > x)
                bin(acc + K_EXPOSED * PLOT_W, (double)(x - P->lo) * scale,
                    (double)(y - P->lo) * scale, PLOT_W);
            if (k >= nb || busy[k].a >= comm[i].b) break;
            x = busy[k].b;
        }
    }
    out->gpu = g;
    size_t cap = 0;
    double xend = (double)(P->hi - P->lo) * scale;
    for (int x = 0; x < PLOT_W && x < xend; x++) {
        double cover = xend - x < 1 ? xend - x : 1, best = -1;
        int cls = K_IDLE;
        double v[K_NCLASS] = {acc[x], acc[PLOT_W + x], acc[K_EXPOSED * PLOT_W + x], 0};
        v[K_IDLE] = cover - v[K_COMPUTE] - v[K_HOST] - v[K_EXPOSED];
        for (int k = 0; k < K_NCLASS; k++)
            if (v[k] > best) {
                best = v[k];
                cls = k;
            }
        push_seg(out, &cap, x, x + 1, cls);
    }
    /* the comm strip: pixels with communication in flight a quarter of the time */
    for (int x = 0; x < PLOT_W && x < xend; x++)
        if (acc[3 * PLOT_W + x] >= 0.25f) push_seg(out, &cap, x, x + 1, K_NCLASS);
    free(comm);
    free(busy);
    free(a);
    free(acc);
}

static void text(cairo_t *cr, double x, double y, double size, int bold, double align,
                 const char *s)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, s, &ext);
    cairo_move_to(cr, x - align * ext.x_advance, y);
    cairo_show_text(cr, s);
}

static void rgb(cairo_t *cr, const double c[3])
{
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
}

/* The smallest tick step of 1, 2 or 5 x 10^k seconds giving at most 12
 * ticks over span. */
static double tick_step(double span)
{
    static const double mult[] = {1, 2, 5};
    double base = pow(10, floor(log10(span > 0 ? span : 1e-9)) - 2);
    for (;;) {
        for (int i = 0; i < 3; i++)
            if (span / (mult[i] * base) <= 12) return mult[i] * base;
        base *= 10;
    }
}

static void tick_label(char *buf, size_t len, double v, double step)
{
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, len, "%.*f", dec, v);
}

/* The title, the line under it and the legend, above the first panel. */
static void draw_heading(cairo_t *cr, const chart *C)
{
    const rep_src *s0 = C->p[0].src;
    int G = prog_ngpus(s0->p);
    char buf[512];
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (C->n == 1)
        snprintf(buf, sizeof buf, "sftsim: step %d of policy %s, per GPU", C->step, s0->policy);
    else
        snprintf(buf, sizeof buf,
                 "sftsim: step %d (the same global batch) under %d policies, on one time axis",
                 C->step, C->n);
    text(cr, MARGIN_L, 26, 18, 1, 0, buf);
    char rows[96] = "one row per GPU";
    if (C->p[0].every > 1)
        snprintf(rows, sizeof rows, "one row per %d GPUs: the busiest of them", C->p[0].every);
    snprintf(buf, sizeof buf,
             "%d GPUs (DP %d x CP %d), %s; x: seconds since the step began; the longest step sets "
             "the scale",
             G, s0->dp, s0->cp, rows);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    text(cr, MARGIN_L, 48, 12, 0, 0, buf);
}

/* A swatch and label per class, then the comm strip's, in one line. */
static void draw_legend(cairo_t *cr)
{
    double lx = MARGIN_L;
    for (int k = 0; k <= K_NCLASS; k++) {
        if (k < K_NCLASS) {
            rgb(cr, colour[k]);
            cairo_rectangle(cr, lx, 62, 16, 12);
        } else {
            rgb(cr, strip_colour);
            cairo_rectangle(cr, lx, 71, 16, 3);
        }
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_rectangle(cr, lx + 0.5, 62.5, 15, 11);
        cairo_set_line_width(cr, 0.5);
        cairo_stroke(cr);
        const char *lab = k < K_NCLASS ? class_label[k] : "strip: communication in flight";
        text(cr, lx + 22, 72, 12, 0, 0, lab);
        cairo_text_extents_t ext;
        cairo_text_extents(cr, lab, &ext);
        lx += 22 + ext.x_advance + 26;
    }
}

/* The panel's title at y: its step time and, beside others, how far it is
 * from the fastest (fastest: the shortest step of all panels, ns). */
static void draw_panel_title(cairo_t *cr, const chart *C, const panel *P, double y, int64_t fastest)
{
    char buf[512];
    double len = (double)(P->hi - P->lo) * 1e-9;
    int off = snprintf(buf, sizeof buf, "%s: step %d takes %.4f s", P->src->policy, C->step, len);
    if (C->n > 1 && P->hi - P->lo == fastest)
        off += snprintf(buf + off, sizeof buf - (size_t)off, " (fastest)");
    else if (C->n > 1)
        off += snprintf(buf + off, sizeof buf - (size_t)off, " (+%.1f%% over the fastest)",
                        100.0 * (double)(P->hi - P->lo - fastest) / (double)fastest);
    if (P->every > 1)
        snprintf(buf + off, sizeof buf - (size_t)off, "; the busiest GPU of each %d", P->every);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text(cr, MARGIN_L, y + 17, 14, 1, 0, buf);
}

/* The time axis of a panel whose rows span [top, top + h): a grid line and
 * a label per tick, in seconds on the shared scale. */
static void draw_axis(cairo_t *cr, const chart *C, double top, double h)
{
    char buf[64];
    double span_s = (double)C->span * 1e-9, tstep = tick_step(span_s);
    cairo_set_line_width(cr, 1);
    for (double t = 0; t <= span_s * (1 + 1e-9); t += tstep) {
        double x = MARGIN_L + floor(t / span_s * PLOT_W) + 0.5;
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_move_to(cr, x, top);
        cairo_line_to(cr, x, top + h + 4);
        cairo_stroke(cr);
        tick_label(buf, sizeof buf, t, tstep);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        text(cr, x, top + h + 16, 10, 0, 0.5, buf);
    }
    text(cr, MARGIN_L + PLOT_W + 8, top + h + 16, 10, 0, 0, "seconds");
}

/* The rows' segments: one path per class, so a few fills and a compact SVG.
 * bh: a bar's height, sh: the comm strip's. */
static void draw_lanes(cairo_t *cr, const chart *C, const panel *P, double top, double bh,
                       double sh)
{
    for (int cls = 0; cls <= K_NCLASS; cls++) {
        rgb(cr, cls < K_NCLASS ? colour[cls] : strip_colour);
        for (int k = 0; k < P->nrows; k++) {
            const row *R = &P->rows[k];
            double ry = top + (double)k * C->rh;
            for (int q = 0; q < R->ns; q++) {
                const seg *S = &R->s[q];
                if (S->cls != cls) continue;
                if (cls == K_NCLASS)
                    cairo_rectangle(cr, MARGIN_L + S->x0, ry + bh - sh, S->x1 - S->x0, sh);
                else
                    cairo_rectangle(cr, MARGIN_L + S->x0, ry, S->x1 - S->x0, bh);
            }
        }
        cairo_fill(cr);
    }
}

/* GPU labels left of the rows (as many as fit) and, when every GPU has its
 * row, a line between CP groups (DP ranks). gap: pixels between rows. */
static void draw_row_labels(cairo_t *cr, const chart *C, const panel *P, double top, double bh,
                            int gap)
{
    char buf[32];
    int label_every = (int)ceil(11.0 / C->rh);
    for (int k = 0; k < P->nrows; k++) {
        const row *R = &P->rows[k];
        double ry = top + (double)k * C->rh;
        if (k % label_every == 0) {
            snprintf(buf, sizeof buf, "GPU %d", R->gpu);
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
            text(cr, MARGIN_L - 6, ry + bh / 2 + 4, C->rh >= 10 ? 10 : 9, 0, 1, buf);
        }
        if (P->every == 1 && P->src->cp > 1 && k > 0 && R->gpu % P->src->cp == 0) {
            cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
            cairo_set_line_width(cr, 1);
            cairo_move_to(cr, MARGIN_L - 40, floor(ry) + 0.5 - gap);
            cairo_line_to(cr, MARGIN_L + PLOT_W, floor(ry) + 0.5 - gap);
            cairo_stroke(cr);
        }
    }
}

/* The dashed line at the panel's step end, labelled with its time. */
static void draw_step_end(cairo_t *cr, const chart *C, const panel *P, double top, double h)
{
    char buf[64];
    double xe = MARGIN_L + (double)(P->hi - P->lo) * ((double)PLOT_W / (double)C->span);
    const double dash[] = {4, 3};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 1.2);
    cairo_move_to(cr, xe, top - 4);
    cairo_line_to(cr, xe, top + h);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    snprintf(buf, sizeof buf, "%.4f s", (double)(P->hi - P->lo) * 1e-9);
    text(cr, xe + 4, top + 10, 11, 1, 0, buf);
}

/* The whole chart: heading and legend, then the panels top to bottom. */
static void draw(cairo_t *cr, const chart *C)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    draw_heading(cr, C);
    draw_legend(cr);
    int64_t fastest = C->p[0].hi - C->p[0].lo;
    for (int i = 1; i < C->n; i++)
        if (C->p[i].hi - C->p[i].lo < fastest) fastest = C->p[i].hi - C->p[i].lo;
    double y = HEAD_H;
    for (int i = 0; i < C->n; i++) {
        const panel *P = &C->p[i];
        draw_panel_title(cr, C, P, y, fastest);
        double top = y + PANEL_HEAD, h = (double)P->nrows * C->rh;
        draw_axis(cr, C, top, h);
        int gap = C->rh >= 6 ? 1 : 0;
        double bh = C->rh - gap, sh = C->rh >= 12 ? floor(C->rh / 4.0) : 2;
        draw_lanes(cr, C, P, top, bh, sh);
        draw_row_labels(cr, C, P, top, bh, gap);
        draw_step_end(cr, C, P, top, h);
        y = top + h + AXIS_H + PANEL_GAP;
    }
}

typedef struct sink {
    FILE *fp;
} sink;

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int len)
{
    sink *s = closure;
    return fwrite(data, 1, len, s->fp) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* A cairo failure: its stream's write error is the output's (EOUTPUT, with
 * the errno fwrite left), anything else ours. */
static sft_status cairo_fail(const char *path, cairo_status_t cs, int err, sft_err *e)
{
    if (cs == CAIRO_STATUS_WRITE_ERROR)
        return sft_errf(e, SFT_EOUTPUT, "%s: write failed: %s", path, strerror(err ? err : EIO));
    return sft_errf(e, SFT_EINTERNAL, "%s: cairo: %s", path, cairo_status_to_string(cs));
}

static sft_status write_png(const char *path, const chart *C, sft_err *e)
{
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, PAGE_W, C->height);
    cairo_t *cr = cairo_create(sf);
    draw(cr, C);
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    sft_status st = SFT_OK;
    if (cs != CAIRO_STATUS_SUCCESS) {
        st = sft_errf(e, SFT_EINTERNAL, "%s: cairo: %s", path, cairo_status_to_string(cs));
    } else {
        sft_ofile *of = sft_ofile_open(path, e);
        if (!of) {
            st = e ? e->status : SFT_EINTERNAL;
        } else {
            sink k = {sft_ofile_fp(of)};
            cs = cairo_surface_write_to_png_stream(sf, sink_write, &k);
            if (cs != CAIRO_STATUS_SUCCESS) {
                int err = errno;
                sft_ofile_abort(of);
                st = cairo_fail(path, cs, err, e);
            } else {
                st = sft_ofile_commit(of, e);
            }
        }
    }
    cairo_surface_destroy(sf);
    return st;
}

static sft_status write_svg(const char *path, const chart *C, sft_err *e)
{
    sft_ofile *of = sft_ofile_open(path, e);
    if (!of) return e ? e->status : SFT_EINTERNAL;
    sink k = {sft_ofile_fp(of)};
    cairo_surface_t *sf = cairo_svg_surface_create_for_stream(sink_write, &k, PAGE_W, C->height);
    cairo_t *cr = cairo_create(sf);
    draw(cr, C);
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(sf);
    if (cs == CAIRO_STATUS_SUCCESS) cs = cairo_surface_status(sf);
    cairo_surface_destroy(sf);
    if (cs != CAIRO_STATUS_SUCCESS) {
        int err = errno;
        sft_ofile_abort(of);
        return cairo_fail(path, cs, err, e);
    }
    return sft_ofile_commit(of, e);
}

sft_status rep_gantt_write(const char *png_path, const char *svg_path, const rep_src *srcs, int n,
                           int step, sft_err *e)
{
    chart C = {0};
    C.n = n;
    C.step = step;
    C.p = sft_xcalloc((size_t)n, sizeof *C.p);
    sft_status st = SFT_OK;
    int maxrows = 0;
    for (int i = 0; i < n && !st; i++) {
        panel *P = &C.p[i];
        P->src = &srcs[i];
        int ns = 0;
        double *tend = rep_step_ends(srcs[i].p, srcs[i].r, &ns);
        if (step < 0 || step >= ns) {
            st = sft_errf(e, SFT_EINPUT, "%s: policy %s has no step %d (%d steps)", png_path,
                          srcs[i].policy, step, ns);
        } else {
            P->lo = step ? rep_ns(tend[step - 1]) : 0;
            P->hi = rep_ns(tend[step]);
            if (P->hi - P->lo > C.span) C.span = P->hi - P->lo;
            int G = prog_ngpus(srcs[i].p);
            P->every = (G + REP_GANTT_MAX_ROWS - 1) / REP_GANTT_MAX_ROWS;
            P->nrows = (G + P->every - 1) / P->every;
            if (P->nrows > maxrows) maxrows = P->nrows;
        }
        free(tend);
    }
    if (!st) {
        if (C.span <= 0) C.span = 1;
        int rh = 900 / (n * (maxrows ? maxrows : 1));
        C.rh = rh < 4 ? 4 : rh > 16 ? 16 : rh;
        C.height = HEAD_H;
        for (int i = 0; i < n; i++)
            C.height += PANEL_HEAD + C.p[i].nrows * C.rh + AXIS_H + PANEL_GAP;
        double scale = (double)PLOT_W / (double)C.span;
        for (int i = 0; i < n; i++) {
            panel *P = &C.p[i];
            P->rows = sft_xcalloc((size_t)P->nrows, sizeof *P->rows);
            int G = prog_ngpus(P->src->p);
            for (int k = 0; k < P->nrows; k++) {
                /* a group's busiest GPU (the summary's measure): the straggler
                 * that sets the step time is always drawn */
                int best = k * P->every;
                for (int g = best + 1; g < (k + 1) * P->every && g < G; g++) {
                    const rep_gpu *a = &P->src->run->gpus[g], *b = &P->src->run->gpus[best];
                    if (a->compute_s + a->exposed_comm_s > b->compute_s + b->exposed_comm_s)
                        best = g;
                }
                make_row(&P->rows[k], P, best, scale);
            }
        }
        st = write_png(png_path, &C, e);
        if (!st) st = write_svg(svg_path, &C, e);
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; C.p[i].rows && k < C.p[i].nrows; k++) free(C.p[i].rows[k].s);
        free(C.p[i].rows);
    }
    free(C.p);
    return st;
}
