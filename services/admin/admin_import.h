/* kefu-admin — the one driver of the three imports (import,
   import-owners, import-tickets): it parses the options, reads FILE and
   its SHA-1, has the kind check it, connects, opens the transaction, has
   the kind write, records the run, commits unless --check or nothing
   changed, rolls back what is left, and has the kind report. What differs
   between the kinds is a small table of callbacks, adm_import_kind_t. */
#ifndef KF_ADMIN_IMPORT_H
#define KF_ADMIN_IMPORT_H

#include <czmq.h>

#include "admin.h"
#include "admin_csv.h"

#define ADM_IMPORT_LOCALS 8 /* options of its own a kind may have */

typedef struct adm_import_s adm_import_t;

/* One kind of import: its command and the parts of the run that are its
   own. Callbacks marked optional may be NULL. */
typedef struct {
    const char *cmd;     /* the command's name, e.g. "import-owners" */
    const char *operand; /* the file operand's name in messages, e.g. "FILE.csv" */
    void (*help)(FILE *out);
    const char *const *local; /* its own long options (adm_parse), nlocal of them */
    const bool *flag;         /* flag[i]: local[i] takes no value */
    size_t nlocal;
    /* Optional: checks the values of its own options; 0 or an exit code
       after reporting. */
    int (*options)(adm_import_t *run);
    /* Checks the file's bytes (size of them at data) before the store is
       asked; 0, or an exit code after reporting (the file refused). */
    int (*parse)(adm_import_t *run, const char *data, size_t size);
    /* Optional: what it asks the store before the transaction; 0 or an
       exit code after reporting. */
    int (*prepare)(adm_import_t *run, PGconn *conn);
    /* Checks against the store and writes, in the open transaction. 0; -1
       with run->why filled when the store refused (nothing is applied);
       or an exit code after reporting. */
    int (*apply)(adm_import_t *run, PGconn *conn);
    /* True when apply wrote something worth committing. */
    bool (*changed)(adm_import_t *run);
    /* Optional: the import_run statement ($1 file, $2 sha1, $3 the counts
       as jsonb; returns the id) and the counts to record with it; NULL
       when apply records its run itself. */
    const char *run_sql;
    json_t *(*counts)(adm_import_t *run);
    /* Reports a run that went through; returns the exit code (0, or
       ADMIN_EXIT_PARTIAL / CLI_EXIT_REFUSED for rejected rows). */
    int (*report)(adm_import_t *run);
} adm_import_kind_t;

/* One run of an import. */
struct adm_import_s {
    const adm_import_kind_t *kind;
    cli_t *cli;
    adm_opts_t opts;
    const char *values[ADM_IMPORT_LOCALS]; /* the kind's options, as kind->local */
    const char *path;                      /* the file */
    char sha1[41];                         /* of the file's bytes */
    int64_t start;                         /* zclock_mono() at the start */
    adm_problems_t problems;
    long long run_id; /* import_run.id the driver recorded, 0 when none */
    void *state;      /* the kind's own */
    char why[1024];   /* why the store refused */
};

/* Runs the import kind with the command line argv (argv[0] its name);
   returns the exit code. */
int adm_import_run(cli_t *cli, int argc, char **argv, const adm_import_kind_t *kind, void *state);

/* Checks one CSV record and, when it is good, appends it to the COPY data
   (*copy, *len, *cap). Returns 0, or -1 after recording its problems. */
typedef int (*adm_csv_row_t)(const csv_record_t *rec, const int *index, size_t nheader,
                             adm_problems_t *problems, char **copy, size_t *len, size_t *cap);

/* What adm_import_csv staged. */
typedef struct {
    size_t rows;     /* data records read */
    size_t staged;   /* passed the checks */
    size_t rejected; /* failed them */
    char *copy;      /* COPY text data of the staged rows (free it), or NULL */
    size_t len, cap;
} adm_staged_t;

/* Reads a CSV file's header (ncolumns columns) and checks each record with
   row into out. Returns 0, or CLI_EXIT_REFUSED after reporting a file
   with no usable header ("nothing was loaded"). */
int adm_import_csv(adm_import_t *run, const char *data, size_t size, const csv_column_t *columns,
                   size_t ncolumns, adm_csv_row_t row, adm_staged_t *out);

#endif
