/* SPDX-License-Identifier: MIT */
/*
 * ui.h: the live curses mode: the event loop and the key bindings.
 */
#ifndef SCALES_TOP_UI_H
#define SCALES_TOP_UI_H

#include "cli.h"

/* Runs the live view until q (or --refreshes N); returns the exit status.
 * SIGINT and SIGTERM restore the terminal and end the process with that
 * signal. */
int top_run_live(const struct top_args *a);

#endif /* SCALES_TOP_UI_H */
