/* notifier — message templates, one file per event type, recipient role,
   channel and language under the template directory
   (deploy/templates/README.md):

     ticket.routed.sms.zh.txt            the customer's SMS, in Chinese
     ticket.escalated.manager.email.en.txt  the manager's e-mail, in English

   An SMS file is the text; an e-mail file starts with a "Subject: " line,
   then the body. {name} is a placeholder, {{ and }} are literal braces.
   Every file is checked when loaded: valid UTF-8, not empty, at most
   TPL_MAX_BYTES, only the placeholders allowed for its event. */
#ifndef NOTIFIER_TEMPLATES_H
#define NOTIFIER_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>

#define TPL_MAX_BYTES 8192
#define TPL_MAX_NAME 96 /* bytes of a template's name, NUL included */

/* One placeholder's value while rendering; value NULL renders as "". */
typedef struct {
    const char *name;
    const char *value;
} tpl_var_t;

/* A set of loaded templates. */
typedef struct tpl_set tpl_set_t;

/* The file name of a template, without the directory:
   TYPE[.VARIANT].CHANNEL.LANG.txt (variant may be NULL). */
void tpl_name(char *buf, size_t size, const char *type, const char *variant, const char *channel,
              const char *lang);

/* A template a set must hold: its file name (tpl_name), whether it is an
   e-mail, and the placeholders it may use (NULL-terminated). A list of
   them ends with an entry whose name is "". The notifier's list comes
   from its rules (rules_template_needs): templates know no rule. */
typedef struct {
    char name[TPL_MAX_NAME];
    bool email;
    const char *const *allowed;
} tpl_need_t;

/* Loads every template of needs from dir, each checked against its
   entry. Returns the set, or NULL with a message naming the file and what
   is wrong in err (nothing is half-loaded). */
tpl_set_t *tpl_set_load(const char *dir, const tpl_need_t *needs, char *err, size_t err_size);

/* A set with the templates given as (name, text) pairs, checked the same
   way, that must hold every template of needs; for tests. */
tpl_set_t *tpl_set_from(const tpl_need_t *needs, const char *const *names, const char *const *texts,
                        size_t count, char *err, size_t err_size);

void tpl_set_destroy(tpl_set_t **self_p);

/* How many templates the set holds. */
size_t tpl_set_size(const tpl_set_t *self);

/* The text of the template called name, or NULL. */
const char *tpl_set_text(const tpl_set_t *self, const char *name);

/* Checks text: valid UTF-8, balanced braces, and every placeholder in
   allowed (NULL-terminated). email: the first line must be "Subject: ...".
   Returns 0, or -1 with a message in err. */
int tpl_check(const char *text, bool email, const char *const *allowed, char *err, size_t err_size);

/* Renders text with vars (count of them) into a new string (caller frees),
   or NULL when text names a placeholder not in vars or is malformed. */
char *tpl_render(const char *text, const tpl_var_t *vars, size_t count);

/* Splits a rendered e-mail into subject (new string, CR and LF turned into
   spaces so that no value can add a header) and body (new string). Returns
   0, or -1 when there is no "Subject: " line. */
int tpl_split_email(const char *rendered, char **subject, char **body);

#endif
