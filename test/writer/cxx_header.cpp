// SPDX-License-Identifier: MIT
// cxx_header.cpp: the public headers compile as C++ and the inline hot path
// works from C++ code.
#include <scales/reader.h>
#include <scales/scales.h>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

int main()
{
	char tmpl[] = "/tmp/scales-cxx-XXXXXX";
	if (!mkdtemp(tmpl))
		return 1;
	setenv("SCALES_DIR", tmpl, 1);
	scales_registry *reg = nullptr;
	scales_options o;
	scales_options_init(&o);
	o.app = "cxx";
	if (scales_open(&o, &reg) != 0)
		return 1;
	scales_counter c;
	scales_histogram h;
	if (scales_counter_get(reg, "/cxx/count", nullptr, &c) != 0 ||
	    scales_histogram_get(reg, "/cxx/lat", nullptr, nullptr, &h) != 0)
		return 1;
	scales_counter_inc(&c);
	scales_counter_add(&c, 2);
	SCALES_TIME(&h)
	{
		scales_counter_inc(&c);
	}
	char err[256];
	scales_segment *seg = nullptr;
	scales_snapshot *s = nullptr;
	if (scales_segment_open(scales_registry_path(reg), 0, &seg, err,
	                        sizeof err) != 0 ||
	    scales_snapshot_take(seg, 0, &s, err, sizeof err) != 0)
		return 1;
	const scales_metric *m = scales_snapshot_find(s, "/cxx/count");
	int ok = m && m->v.u64 == 4;
	std::printf("%s\n", ok ? "ok" : "wrong value");
	scales_snapshot_free(&s);
	scales_segment_close(&seg);
	scales_close(&reg);
	rmdir(tmpl);
	return ok ? 0 : 1;
}
