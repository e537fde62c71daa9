/* SPDX-License-Identifier: MIT */
/*
 * term.c: curses set-up and restore, and signals (see term.h).
 */
#include "term.h"

#include "escape.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t curses_on;
static bool have_termios;
static struct termios saved_termios;
static bool utf8;

/* What the crash handler writes to leave the alternate screen, show the
 * cursor and reset the attributes: copied from terminfo at start, so the
 * handler needs no allocation and no curses call. */
static char restore_seq[256];
static size_t restore_len;

static const int term_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (sig_pipe[1] >= 0)
		(void)!write(sig_pipe[1], &b, 1);
	errno = saved;
}

/* The handlers found before ours (a sanitizer's, say): chained to. */
static struct sigaction old_crash[sizeof(crash_signals) / sizeof(int)];

static void on_crash(int sig, siginfo_t *si, void *ctx)
{
	/* async-signal-safe only: write(), tcsetattr(), sigaction(), raise() */
	if (curses_on) {
		curses_on = 0;
		if (restore_len)
			(void)!write(STDOUT_FILENO, restore_seq, restore_len);
		if (have_termios)
			tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
	}
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(int); i++) {
		if (crash_signals[i] != sig)
			continue;
		struct sigaction *o = &old_crash[i];
		if ((o->sa_flags & SA_SIGINFO) && o->sa_sigaction) {
			sigaction(sig, o, NULL);
			o->sa_sigaction(sig, si, ctx);
			return;
		}
		if (!(o->sa_flags & SA_SIGINFO) && o->sa_handler != SIG_DFL &&
		    o->sa_handler != SIG_IGN) {
			sigaction(sig, o, NULL);
			o->sa_handler(sig);
			return;
		}
	}
	/* the default action: a fault happens again on return, a signal
	 * sent with kill() is raised again */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void add_cap(const char *name)
{
	char *s = tigetstr(name);
	if (!s || s == (char *)-1)
		return;
	size_t l = strlen(s);
	if (restore_len + l < sizeof(restore_seq)) {
		memcpy(restore_seq + restore_len, s, l);
		restore_len += l;
	}
}

void top_term_crash_handlers(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_crash;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
	/* a handler found here (a sanitizer's) is called after the terminal
	 * is restored */
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(int); i++)
		sigaction(crash_signals[i], &sa, &old_crash[i]);
}

int top_term_init(void)
{
	setlocale(LC_ALL, "");
	utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) {
		perror("scales-top: pipe");
		return -1;
	}
	if (isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &saved_termios) == 0)
		have_termios = true;

	top_term_crash_handlers();

	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		/* an unknown $TERM (e.g. benchmarks without a terminal) */
		scr = newterm("vt100", stdout, stdin);
		if (!scr) {
			fprintf(stderr,
			        "scales-top: cannot start curses "
			        "(TERM=%s)\n",
			        top_esc(getenv("TERM") ? getenv("TERM") : ""));
			return -1;
		}
	}
	set_term(scr);
	curses_on = 1;
	add_cap("rmcup");
	add_cap("rmkx");
	add_cap("sgr0");
	add_cap("op");
	add_cap("cnorm");
	restore_seq[restore_len++] = '\r';
	restore_seq[restore_len++] = '\n';
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_BLACK, COLOR_CYAN); /* header */
		init_pair(2, COLOR_RED, -1);           /* dead */
		init_pair(3, COLOR_GREEN, -1);         /* alive */
		init_pair(4, COLOR_YELLOW, -1);        /* aggregates */
	}

	/* after newterm(): curses installs its own handlers for some of
	 * these when they are at their default; ours replace them */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(term_signals) / sizeof(int); i++)
		sigaction(term_signals[i], &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void top_term_restore(void)
{
	if (!curses_on)
		return;
	curs_set(1);
	endwin();
	curses_on = 0;
	fflush(stdout);
}

int top_term_signal_fd(void)
{
	return sig_pipe[0];
}

int top_term_take_signals(bool *resized)
{
	unsigned char b[64];
	ssize_t n;
	int term = 0;
	while ((n = read(sig_pipe[0], b, sizeof(b))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (b[i] == SIGWINCH)
				*resized = true;
			else if (!term)
				term = b[i];
		}
	return term;
}

void top_term_resize(void)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
}

_Noreturn void top_term_die(int sig)
{
	top_term_restore();
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

bool top_term_utf8(void)
{
	return utf8;
}
