/* kefu-admin — the one driver of the imports (admin_import.h). */
#include "admin_import.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

/* One import at a time: a transaction-level advisory lock (migrate.sh
   uses 4919). */
#define ADM_IMPORT_LOCK "4920"

/* Parses the command line into run; ARGS_OK, ARGS_HELP or an exit code. */
static int s_parse(adm_import_t *run, int argc, char **argv)
{
    const adm_import_kind_t *kind = run->kind;
    assert(kind->nlocal <= ADM_IMPORT_LOCALS);
    int rc = adm_parse(run->cli, kind->cmd, argc, argv, kind->help, &run->opts, kind->local,
                       kind->flag, run->values, kind->nlocal);
    if (rc != ARGS_OK)
        return rc;
    rc = args_operands(run->cli, kind->cmd, argc, argv, 1, kind->operand);
    if (rc == 0 && kind->options)
        rc = kind->options(run);
    if (rc == 0)
        run->path = argv[optind];
    return rc;
}

/* Reads the file, its SHA-1, and has the kind check it; 0 or an exit code. */
static int s_read(adm_import_t *run)
{
    size_t size = 0;
    char *data = csv_slurp(run->path, &size, run->why, sizeof run->why);
    if (!data)
        return adm_fail(run->cli, run->kind->cmd, CLI_EXIT_USAGE, "%s", run->why);
    adm_sha1(data, size, run->sha1);
    int rc = run->kind->parse(run, data, size);
    free(data);
    return rc;
}

/* Records the run (kind->run_sql) and commits; 0 or an exit code. */
static int s_commit(adm_import_t *run, PGconn *conn)
{
    const adm_import_kind_t *kind = run->kind;
    PGresult *res = (PGresult *)1; /* "no failure yet" without a result to clear */
    if (kind->run_sql) {
        json_t *counts = kind->counts(run);
        char *text = json_dumps(counts, JSON_COMPACT);
        json_decref(counts);
        const char *params[] = {run->path, run->sha1, text};
        res = adm_exec(conn, kind->run_sql, 3, params, run->why, sizeof run->why);
        free(text);
        if (res) {
            run->run_id = atoll(PQgetvalue(res, 0, 0));
            PQclear(res);
        }
    }
    if (res)
        res = adm_exec(conn, "COMMIT", 0, NULL, run->why, sizeof run->why);
    if (res && strcmp(PQcmdStatus(res), "COMMIT") == 0) {
        PQclear(res);
        return CLI_EXIT_OK;
    }
    run->run_id = 0;
    int rc = adm_fail(run->cli, kind->cmd, CLI_EXIT_REFUSED,
                      "%s: the commit failed, nothing was applied: %s", run->path,
                      res ? "the transaction was rolled back" : run->why);
    PQclear(res);
    return rc;
}

/* The store's part: prepare, BEGIN, apply, commit; 0 or an exit code. */
static int s_store(adm_import_t *run, PGconn *conn)
{
    const adm_import_kind_t *kind = run->kind;
    int rc = kind->prepare ? kind->prepare(run, conn) : 0;
    if (rc != 0)
        return rc;
    const char *lock[] = {ADM_IMPORT_LOCK};
    rc = adm_do(conn, "BEGIN", 0, NULL, run->why, sizeof run->why) == 0 &&
                 adm_do(conn, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, run->why,
                        sizeof run->why) == 0
             ? kind->apply(run, conn)
             : -1;
    if (rc < 0)
        rc = adm_fail(run->cli, kind->cmd, CLI_EXIT_REFUSED,
                      "%s: the store refused the load, nothing was applied: %s", run->path,
                      run->why);
    else if (rc == 0 && !run->opts.check && kind->changed(run))
        rc = s_commit(run, conn);
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec(conn, "ROLLBACK");
        PQclear(res);
    }
    return rc;
}

int adm_import_run(cli_t *cli, int argc, char **argv, const adm_import_kind_t *kind, void *state)
{
    adm_import_t run = {.kind = kind, .cli = cli, .state = state, .start = zclock_mono()};
    int rc = s_parse(&run, argc, argv);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    adm_problems_init(&run.problems, (size_t)run.opts.max_errors);
    rc = s_read(&run);
    PGconn *conn = rc == 0 ? adm_connect(cli, &run.opts) : NULL;
    if (rc == 0 && !conn)
        rc = CLI_EXIT_TEMPORARY;
    if (rc == 0)
        rc = s_store(&run, conn);
    if (conn)
        PQfinish(conn);
    if (rc == 0)
        rc = kind->report(&run);
    adm_problems_free(&run.problems);
    return rc;
}

int adm_import_csv(adm_import_t *run, const char *data, size_t size, const csv_column_t *columns,
                   size_t ncolumns, adm_csv_row_t row, adm_staged_t *out)
{
    adm_problems_t *problems = &run->problems;
    csv_t *csv = csv_new(data, size);
    csv_record_t rec;
    int index[32];
    assert(ncolumns <= sizeof index / sizeof index[0]);
    size_t nheader = 0;
    int got = csv_next(csv, &rec);
    if (got == CSV_END)
        adm_problem(problems, 1, "header", "bad_header",
                    "the file is empty: the first line must name the columns");
    else if (got == CSV_BAD)
        adm_problem(problems, rec.line, "header", "bad_header", "%s", rec.error);
    else if (csv_header(&rec, columns, ncolumns, index, problems) == 0)
        nheader = rec.count;
    while (nheader && (got = csv_next(csv, &rec)) != CSV_END) {
        out->rows++;
        if (got == CSV_BAD)
            adm_problem(problems, rec.line, "", "bad_csv", "%s", rec.error);
        if (got == CSV_BAD ||
            row(&rec, index, nheader, problems, &out->copy, &out->len, &out->cap) != 0)
            out->rejected++;
        else
            out->staged++;
    }
    csv_destroy(&csv);
    if (nheader)
        return 0;
    adm_problems_print(problems, stderr, run->path);
    fprintf(stderr, "%s: %s: %s: nothing was loaded\n", cli_program(run->cli), run->kind->cmd,
            run->path);
    if (run->cli->json)
        adm_print_json(json_pack("{s:s, s:I, s:o}", "file", run->path, "rows", (json_int_t)0,
                                 "errors", adm_problems_json(problems)));
    return CLI_EXIT_REFUSED;
}
