// SPDX-License-Identifier: MIT
// reader_cxx.cpp: <scales/reader.h> compiles as C++ (declarations only).
#include <scales/reader.h>

int main()
{
	scales_snapshot *s = nullptr;
	scales_buf b = {};
	(void)s;
	(void)b;
	return sizeof(scales_metric) > 0 ? 0 : 1;
}
