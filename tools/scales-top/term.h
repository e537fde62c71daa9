/* SPDX-License-Identifier: MIT */
/*
 * term.h: the terminal: curses set-up and restore, and signals. The
 * terminal is always restored: on a normal end, on SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT (the event loop ends, restores, then re-raises the
 * signal with its default action), and on a crash signal (SIGSEGV, SIGBUS,
 * SIGILL, SIGFPE, SIGABRT: the handler restores with async-signal-safe
 * calls only, then re-raises with the default action, so a crash is still
 * reported as one).
 */
#ifndef SCALES_TOP_TERM_H
#define SCALES_TOP_TERM_H

#include <stdbool.h>

/*
 * Installs the crash signal handlers (idempotent). Call it before any
 * segment is opened: the reader library's SIGBUS guard, installed on first
 * use, chains to the handler it finds for faults outside its copies.
 */
void top_term_crash_handlers(void);

/*
 * Installs the signal handlers, then starts curses on the terminal
 * (stdin/stdout). Returns 0, or -1 with a message on stderr.
 */
int top_term_init(void);

/* Restores the terminal (endwin). Idempotent. */
void top_term_restore(void);

/* The read end of the self-pipe that signals write to: poll it. */
int top_term_signal_fd(void);

/* Drains the self-pipe. Returns the first terminating signal received
 * (0 if none) and sets *resized if SIGWINCH came. */
int top_term_take_signals(bool *resized);

/* After a SIGWINCH: asks the kernel for the size and resizes curses. */
void top_term_resize(void);

/* Restores the terminal and ends the process with sig's default action. */
_Noreturn void top_term_die(int sig);

/* Whether the terminal shows UTF-8 (the locale's codeset). */
bool top_term_utf8(void);

#endif /* SCALES_TOP_TERM_H */
