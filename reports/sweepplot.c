/* sweepplot.c — step time and speedup against a swept option (sweepplot.h). */
#include "reports/sweepplot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W      1100.0
#define H      820.0
#define MAXSER 24
#define MAXPTS 256

typedef struct series {
    char label[160];
    int n;
    double x[MAXPTS], t[MAXPTS], sp[MAXPTS];
    int oom[MAXPTS];
} series;

typedef struct plot {
    const char *xname;
    int logx;
    double xmin, xmax, tmax, spmax;
    series s[MAXSER];
    int ns;
} plot;

static const double palette[10][3] = {{0.12, 0.47, 0.71}, {0.84, 0.15, 0.16}, {0.17, 0.63, 0.17},
                                      {1.00, 0.50, 0.05}, {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29},
                                      {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50}, {0.74, 0.74, 0.13},
                                      {0.09, 0.75, 0.81}};

static double num(const cJSON *r, const char *k, int *ok)
{
    const cJSON *v = cJSON_GetObjectItem(r, k);
    *ok = cJSON_IsNumber(v);
    return *ok ? v->valuedouble : 0;
}

/* Picks the x option and groups the rows into series. Returns 0 if nothing
 * numeric varies. */
static int collect(plot *P, const cJSON *rows, const char *const *swept, int nswept)
{
    memset(P, 0, sizeof *P);
    int xi = -1;
    for (int k = 0; k < nswept; k++)
        if (strcmp(swept[k], "gpus") == 0) xi = k;
    for (int k = 0; k < nswept && xi < 0; k++) {
        const cJSON *v = rows->child ? cJSON_GetObjectItem(rows->child, swept[k]) : NULL;
        if (cJSON_IsNumber(v)) xi = k;
    }
    if (xi < 0) return 0;
    P->xname = swept[xi];
    P->xmin = 1e300;
    for (const cJSON *r = rows->child; r; r = r->next) {
        int okx, okt, oks;
        double x = num(r, P->xname, &okx), t = num(r, "mean_step_time_s", &okt);
        double sp = num(r, "speedup_vs_deepspeed", &oks);
        if (!okx || !okt) continue;
        char label[160];
        const cJSON *pol = cJSON_GetObjectItem(r, "policy");
        size_t off = (size_t)snprintf(label, sizeof label, "%s",
                                      cJSON_IsString(pol) ? pol->valuestring : "?");
        for (int k = 0; k < nswept && off < sizeof label; k++) {
            if (k == xi) continue;
            const cJSON *v = cJSON_GetObjectItem(r, swept[k]);
            if (cJSON_IsNumber(v))
                off += (size_t)snprintf(label + off, sizeof label - off, " %s=%g", swept[k],
                                        v->valuedouble);
            else if (cJSON_IsString(v))
                off += (size_t)snprintf(label + off, sizeof label - off, " %s=%s", swept[k],
                                        v->valuestring);
        }
        int s = 0;
        while (s < P->ns && strcmp(P->s[s].label, label) != 0) s++;
        if (s == P->ns) {
            if (P->ns == MAXSER) continue;
            snprintf(P->s[P->ns++].label, sizeof P->s[0].label, "%s", label);
        }
        series *S = &P->s[s];
        if (S->n == MAXPTS) continue;
        S->x[S->n] = x;
        S->t[S->n] = t;
        S->sp[S->n] = oks ? sp : NAN;
        S->oom[S->n++] = cJSON_IsTrue(cJSON_GetObjectItem(r, "oom"));
        if (x < P->xmin) P->xmin = x;
        if (x > P->xmax) P->xmax = x;
        if (t > P->tmax) P->tmax = t;
        if (oks && sp > P->spmax) P->spmax = sp;
    }
    if (P->ns == 0) return 0;
    P->logx = P->xmin > 0 && P->xmax / P->xmin >= 4;
    if (P->xmax == P->xmin) {
        P->xmax = P->xmin + 1;
        P->xmin -= 1;
    }
    if (P->spmax < 1) P->spmax = 1;
    return 1;
}

static double X(const plot *P, double x, double x0, double w)
{
    double f = P->logx ? (log(x) - log(P->xmin)) / (log(P->xmax) - log(P->xmin))
                       : (x - P->xmin) / (P->xmax - P->xmin);
    return x0 + f * w;
}

static void text(cairo_t *cr, double x, double y, const char *s, double size, int align)
{
    cairo_text_extents_t te;
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, align == 0 ? x : align == 1 ? x - te.width / 2 : x - te.width, y);
    cairo_show_text(cr, s);
}

static void panel(cairo_t *cr, const plot *P, double y0, double h, int speedup)
{
    const double x0 = 90, w = 700;
    double ymax = speedup ? P->spmax * 1.1 : P->tmax * 1.1;
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x0, y0, w, h);
    cairo_stroke(cr);
    char buf[64];
    for (int i = 0; i <= 5; i++) { /* y ticks */
        double v = ymax * i / 5, y = y0 + h - h * i / 5;
        snprintf(buf, sizeof buf, speedup ? "%.2fx" : "%.3g", v);
        text(cr, x0 - 6, y + 4, buf, 11, 2);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x0, y);
        cairo_line_to(cr, x0 + w, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
    }
    /* x ticks at the distinct x values of the data */
    double seen[MAXPTS];
    int ns = 0;
    for (int s = 0; s < P->ns; s++)
        for (int i = 0; i < P->s[s].n; i++) {
            int dup = 0;
            for (int k = 0; k < ns; k++) dup |= seen[k] == P->s[s].x[i];
            if (!dup && ns < MAXPTS) seen[ns++] = P->s[s].x[i];
        }
    for (int k = 0; k < ns; k++) {
        double x = X(P, seen[k], x0, w);
        snprintf(buf, sizeof buf, "%g", seen[k]);
        text(cr, x, y0 + h + 16, buf, 11, 1);
    }
    if (speedup) { /* the deepspeed line */
        double y = y0 + h - h * 1.0 / ymax;
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_set_dash(cr, (double[]){4, 4}, 2, 0);
        cairo_move_to(cr, x0, y);
        cairo_line_to(cr, x0 + w, y);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    for (int s = 0; s < P->ns; s++) {
        const series *S = &P->s[s];
        const double *c = palette[s % 10];
        /* points in x order */
        int ord[MAXPTS];
        for (int i = 0; i < S->n; i++) ord[i] = i;
        for (int i = 1; i < S->n; i++)
            for (int k = i; k > 0 && S->x[ord[k]] < S->x[ord[k - 1]]; k--) {
                int t = ord[k];
                ord[k] = ord[k - 1];
                ord[k - 1] = t;
            }
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        cairo_set_line_width(cr, 2);
        int started = 0;
        for (int i = 0; i < S->n; i++) {
            double v = speedup ? S->sp[ord[i]] : S->t[ord[i]];
            if (isnan(v)) continue;
            double px = X(P, S->x[ord[i]], x0, w), py = y0 + h - h * v / ymax;
            if (!started)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
            started = 1;
        }
        cairo_stroke(cr);
        for (int i = 0; i < S->n; i++) {
            double v = speedup ? S->sp[ord[i]] : S->t[ord[i]];
            if (isnan(v)) continue;
            double px = X(P, S->x[ord[i]], x0, w), py = y0 + h - h * v / ymax;
            cairo_arc(cr, px, py, 4, 0, 2 * M_PI);
            if (S->oom[ord[i]]) {
                cairo_set_source_rgb(cr, 1, 1, 1);
                cairo_fill_preserve(cr);
                cairo_set_source_rgb(cr, c[0], c[1], c[2]);
                cairo_stroke(cr);
            } else {
                cairo_fill(cr);
            }
        }
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, x0 + w / 2, y0 + h + 34, P->logx ? "(log scale)" : "", 11, 1);
    cairo_save(cr);
    cairo_translate(cr, 28, y0 + h / 2);
    cairo_rotate(cr, -M_PI / 2);
    text(cr, 0, 0, speedup ? "speedup over deepspeed" : "step time (s)", 13, 1);
    cairo_restore(cr);
}

static void draw(cairo_t *cr, const plot *P)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    char title[128];
    snprintf(title, sizeof title, "sftsim sweep: step time and speedup against %s", P->xname);
    text(cr, W / 2, 28, title, 16, 1);
    panel(cr, P, 50, 320, 0);
    panel(cr, P, 430, 320, 1);
    char xl[96];
    snprintf(xl, sizeof xl, "%s", P->xname);
    text(cr, 90 + 350, H - 10, xl, 13, 1);
    for (int s = 0; s < P->ns; s++) { /* legend */
        const double *c = palette[s % 10];
        double y = 70 + 20 * s;
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        cairo_rectangle(cr, 810, y - 9, 14, 10);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text(cr, 830, y, P->s[s].label, 11, 0);
    }
    text(cr, 810, 80 + 20 * P->ns, "hollow: out of memory", 11, 0);
}

/* cairo names an SVG's groups "surfaceN" with a counter global to the
 * process: renumber them by first appearance so that the same plot gives the
 * same bytes however many surfaces the process drew before. Creates the
 * result (caller frees), *outlen its length. */
static char *renumber_surfaces(const char *in, size_t n, size_t *outlen)
{
    long map_from[256], k = 0;
    char *out = sft_xmalloc(n + 4096), *o = out;
    for (size_t i = 0; i < n;) {
        if (i + 8 <= n && strncmp(in + i, "surface", 7) == 0 && in[i + 7] >= '0' &&
            in[i + 7] <= '9') {
            char *end;
            long id = strtol(in + i + 7, &end, 10);
            long j = 0;
            while (j < k && map_from[j] != id) j++;
            if (j == k && k < 256) map_from[k++] = id;
            o += sprintf(o, "surface%ld", j + 1);
            i = (size_t)(end - in);
        } else {
            *o++ = in[i++];
        }
    }
    *outlen = (size_t)(o - out);
    return out;
}

/* cairo's stream writers: into an open output file, or into memory. */
static cairo_status_t to_file(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

typedef struct membuf {
    char *p;
    size_t n, cap;
} membuf;

static cairo_status_t to_mem(void *closure, const unsigned char *data, unsigned int len)
{
    membuf *m = closure;
    SFT_GROW(m->p, m->cap, m->n + len + 1);
    memcpy(m->p + m->n, data, len);
    m->n += len;
    m->p[m->n] = '\0';
    return CAIRO_STATUS_SUCCESS;
}

/* Both files go through sft_ofile (registered temporary, then renamed), so an
 * interrupted sweep never leaves a half-written plot under its final name. */
sft_status rep_sweep_plot(const char *png_path, const char *svg_path, const cJSON *rows,
                          const char *const *swept, int nswept, sft_err *e)
{
    plot *P = sft_xmalloc(sizeof *P);
    if (!collect(P, rows, swept, nswept)) {
        free(P);
        return SFT_OK;
    }
    sft_status st = SFT_OK;
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)W, (int)H);
    cairo_t *cr = cairo_create(img);
    draw(cr, P);
    cairo_destroy(cr);
    sft_ofile *of = sft_ofile_open(png_path, e);
    if (!of) {
        st = e->status;
    } else if (cairo_surface_write_to_png_stream(img, to_file, sft_ofile_fp(of)) !=
               CAIRO_STATUS_SUCCESS) {
        sft_ofile_abort(of);
        st = sft_errf(e, SFT_EOUTPUT, "%s: cannot write the PNG: %s", png_path, strerror(errno));
    } else {
        st = sft_ofile_commit(of, e);
    }
    cairo_surface_destroy(img);
    if (!st) {
        membuf m = {NULL, 0, 0};
        cairo_surface_t *svg = cairo_svg_surface_create_for_stream(to_mem, &m, W, H);
        cr = cairo_create(svg);
        draw(cr, P);
        cairo_destroy(cr);
        cairo_surface_finish(svg);
        cairo_status_t cs = cairo_surface_status(svg);
        cairo_surface_destroy(svg);
        if (cs != CAIRO_STATUS_SUCCESS) {
            st = sft_errf(e, SFT_EINTERNAL, "%s: cannot draw the SVG: %s", svg_path,
                          cairo_status_to_string(cs));
        } else {
            size_t n = 0;
            char *text = renumber_surfaces(m.p ? m.p : "", m.n, &n);
            st = sft_write_file(svg_path, text, n, e);
            free(text);
        }
        free(m.p);
    }
    free(P);
    return st;
}
