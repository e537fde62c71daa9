/* SPDX-License-Identifier: MIT */
/*
 * xss-writer: an instrumented process whose strings are hostile to a web
 * page: a state value and help texts that are script tags and quotes, for
 * the http tests. App "xss" unless $SCALES_APP says otherwise.
 *
 *   /evil/state     state "<script>alert(1)</script>"
 *                   help  "<script>document.body.appendChild(
 *                          document.createElement('pwned'))</script>"
 *   /evil/title     state "<script>document.title='pwned'</script>"
 *   /evil/quote     counter 3, help "\"><img src=x onerror=\"document.title=
 *                   'pwned-img'\">"
 *   /evil/ticks     counter incremented every 100 ms (for auto-refresh)
 *   /evil/status    dict: keys 200 (5) and 404 (2)
 *
 * Had any of them run in a browser, the page's title would be "pwned..."
 * or the document would hold a <pwned> element: the tests check it is
 * not so, and that the strings show as text.
 *
 * Prints "ready" once everything is set, then waits for SIGTERM or SIGINT.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <scales/scales.h>

static int fail(const char *what, int rc)
{
	fprintf(stderr, "xss-writer: %s: %s\n", what, scales_strerror(rc));
	return 1;
}

int main(void)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	struct scales_options opts;
	scales_options_init(&opts);
	if (!getenv("SCALES_APP"))
		opts.app = "xss";
	scales_registry *reg;
	int rc = scales_open(&opts, &reg);
	if (rc)
		return fail("opening the segment", rc);

	scales_state state, title;
	rc = scales_state_get(reg, "/evil/state",
	                      &(struct scales_info){
	                          "<script>document.body.appendChild("
	                          "document.createElement('pwned'))</script>",
	                          SCALES_UNIT_NONE },
	                      &state);
	if (rc)
		return fail("/evil/state", rc);
	rc = scales_state_set_str(&state, "<script>alert(1)</script>");
	if (rc)
		return fail("setting /evil/state", rc);
	rc = scales_state_get(reg, "/evil/title", NULL, &title);
	if (rc)
		return fail("/evil/title", rc);
	rc = scales_state_set_str(&title,
	                          "<script>document.title='pwned'</script>");
	if (rc)
		return fail("setting /evil/title", rc);

	scales_counter quote, ticks;
	rc = scales_counter_get(reg, "/evil/quote",
	                        &(struct scales_info){
	                            "\"><img src=x "
	                            "onerror=\"document.title='pwned-img'\">",
	                            SCALES_UNIT_NONE },
	                        &quote);
	if (rc)
		return fail("/evil/quote", rc);
	scales_counter_add(&quote, 3);
	rc = scales_counter_get(reg, "/evil/ticks",
	                        &(struct scales_info){
	                            "ticks & <b>bold</b> 'quoted'",
	                            SCALES_UNIT_NONE },
	                        &ticks);
	if (rc)
		return fail("/evil/ticks", rc);

	scales_dict status;
	rc = scales_dict_get(reg, "/evil/status",
	                     &(struct scales_info){ "responses by status",
	                                            SCALES_UNIT_NONE },
	                     &status);
	if (rc)
		return fail("/evil/status", rc);
	if ((rc = scales_dict_add(&status, "200", 5)) ||
	    (rc = scales_dict_add(&status, "404", 2)))
		return fail("/evil/status keys", rc);

	printf("ready\n");
	fflush(stdout);

	struct timespec tick = { 0, 100 * 1000 * 1000 }, zero = { 0, 0 };
	for (;;) {
		scales_counter_inc(&ticks);
		nanosleep(&tick, NULL);
		if (sigtimedwait(&stop, NULL, &zero) > 0)
			break;
	}
	scales_close(&reg);
	return 0;
}
