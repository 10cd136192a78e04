/* leakwatchd -t [--show-matches [--json]] (see check_config.h).
 *
 * The question after "is this file valid?" is "what would it watch?":
 * `leakwatchctl match` answers it, and -t --show-matches answers it from
 * the daemon's own command line, the way an operator reaches for it before
 * a reload (nginx -t, sshd -T).  Both go through the same code
 * (match_show_config()), so the two reports cannot drift apart; the file
 * is loaded once, so its warnings are told once.
 *
 * With --json the "configuration OK" line is left out: stdout is the JSON
 * document alone, for a parser, and the exit status says the check passed.
 * The survey reads /proc once (one discovery scan); its cost is the
 * command's, bounded as the daemon's first scan is. */
#include "daemon/check_config.h"

#include <stdio.h>
#include <unistd.h>

#include "core/config.h"
#include "core/match_report.h"
#include "daemon/match_survey.h"
#include "os/config_file.h"

int check_config_run(const struct check_config *c)
{
	const struct match_survey_opts opts = { "/proc", MATCH_ROWS_DEFAULT, getpid(), NULL, NULL };
	struct config *cfg = NULL;
	int r;

	if (!c->show_matches)
		return config_check(c->config_path);
	r = config_check_load(c->config_path, &cfg);
	if (r < 0)
		return r;
	if (!c->json)
		printf("configuration OK\n");
	r = match_show_config("leakwatchd", cfg, &opts, c->json, stdout);
	config_free(cfg);
	return r;
}
