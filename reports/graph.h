/* graph.h — the schedule graph of one step (Graphviz: schedule.dot always,
 * schedule.svg laid out by dot): how a policy placed the global batch.
 *
 * Structure: a cluster per DP rank (cluster_dp<d>), in it a cluster per
 * micro-batch (cluster_dp<d>_mb<m>), stacked top to bottom in plan order; in
 * a micro-batch, left to right,
 *   - a box per CP rank (dp<d>_mb<m>_cp<c>: CP rank, GPU, tokens it holds),
 *     the sequences it holds whole below it: blue ellipses seq<id> labelled
 *     "id:tokens";
 *   - if any sequence is distributed, an orange hexagon
 *     (dp<d>_mb<m>_dist: "distributed over CP 0..n-1"), the sharded
 *     sequences below it: octagons seq<id>, "id:tokens".
 * Edges are invisible: they only hang the columns and fix the order. Node
 * count at this detail: per micro-batch CP + nseq + (1 if any sequence is
 * distributed). Above REP_GRAPH_MAX_NODES the graph is summarised: one box
 * per micro-batch (sequences, local / distributed, tokens, most tokens on
 * one GPU) inside the DP rank clusters; above it again, one box per DP rank.
 * The root graph's attribute sftsim_detail says which ("sequences",
 * "microbatches", "ranks").
 *
 * Invariants: both files appear under their names only when complete; the
 * DOT file holds no layout, so it reads back (agread) with exactly the nodes
 * described above.
 */
#ifndef SFT_REP_GRAPH_H
#define SFT_REP_GRAPH_H

#include "reports/events.h"

#define REP_GRAPH_MAX_NODES 1000

/* Writes the graph of src's plan of step `step` (borrowed) to dot_path and,
 * laid out, to svg_path. EINPUT when src has no plan for that step. On
 * failure the message names the file. */
sft_status rep_graph_write(const char *dot_path, const char *svg_path, const rep_src *src, int step,
                           sft_err *e);

#endif
