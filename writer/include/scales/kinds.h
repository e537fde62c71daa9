/* SPDX-License-Identifier: MIT */
/*
 * <scales/kinds.h>: the kinds and units of stats, defined once for the
 * writer API (<scales/scales.h>), the reader API (<scales/reader.h>) and the
 * segment layout (shm/scales_shm.h, docs/format.md). The values are what a
 * segment stores: they never change meaning.
 */
#ifndef SCALES_KINDS_H
#define SCALES_KINDS_H

/* A stat's kind as readers report it (struct scales_metric.kind). The
 * values are the segment's entry kinds; entry kinds 6 and 7 (aggregate
 * declarations) are reported through scales_metric.agg instead. */
enum scales_kind {
	SCALES_KIND_COUNTER = 1,   /* reader: v.u64 */
	SCALES_KIND_GAUGE = 2,     /* reader: v.i64 */
	SCALES_KIND_GAUGE_F64 = 3, /* reader: v.f64 */
	SCALES_KIND_STATE = 4,     /* reader: v.state (NULL: never set) */
	SCALES_KIND_HISTOGRAM = 5, /* reader: hist */
	SCALES_KIND_DICT = 8,      /* reader: v.u64 = sum of its keys (the
	                              counters at path/<key>) */
};

/* A stat's unit (struct scales_info.unit, struct scales_metric.unit; the
 * low byte of a segment entry's unit field). */
enum scales_unit {
	SCALES_UNIT_NONE = 0,
	SCALES_UNIT_SECONDS = 1,
	SCALES_UNIT_BYTES = 2,
	/* How readers merge a gauge over the processes of an app (scales-top
	 * -m, scales-export): OR one into a gauge's scales_info.unit, as in
	 * SCALES_UNIT_SECONDS | SCALES_MERGE_MAX. Counters and histograms
	 * always add; other kinds refuse these bits (SCALES_E_CONFIG). */
	SCALES_MERGE_SUM = 0 << 8, /* the default */
	SCALES_MERGE_MAX = 1 << 8,
	SCALES_MERGE_MIN = 2 << 8,
	SCALES_MERGE_MEAN = 3 << 8,
	/* Time in state (format 1.4): OR into a state's scales_info.unit to
	 * have it accumulate the time spent in each value, with a table of
	 * 16 values (SCALES_STATE_TIMED_N(n): n values, 1 to 254; values
	 * past them count together as "other"). Other kinds refuse it. */
	SCALES_STATE_TIMED = 16 << 16,
};
#define SCALES_UNIT_MASK 0xffu
#define SCALES_MERGE_MASK 0xff00u
#define SCALES_STATE_TIMED_MASK 0xff0000u
#define SCALES_STATE_TIMED_N(n) ((enum scales_unit)((unsigned)(n) << 16))

#endif /* SCALES_KINDS_H */
