/* notifier — the channels' transports (see channels.h). */
#include "channels.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "mail.h"

struct channels {
    channels_config_t config;
    int fd;     /* file channel, -1 when none */
    CURL *http; /* kept between messages: the connection stays open */
    CURL *smtp;
    struct curl_slist *http_headers;
    char auth_header[600];
};

send_outcome_t channels_http_outcome(long status)
{
    if (status >= 200 && status < 300)
        return SEND_OK;
    if (status == 0 || status == 408 || status == 425 || status == 429 || status >= 500)
        return SEND_RETRY;
    return SEND_FAIL;
}

send_outcome_t channels_smtp_outcome(long code)
{
    if (code >= 500 && code < 600 && code != 530 && code != 534 && code != 535 && code != 538)
        return SEND_FAIL;
    return SEND_RETRY;
}

static int s_open_file(channels_t *self)
{
    if (!self->config.file_path[0])
        return 0;
    int fd = open(self->config.file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    if (self->fd >= 0)
        close(self->fd);
    self->fd = fd;
    return 0;
}

channels_t *channels_new(const channels_config_t *config, char *err, size_t err_size)
{
    bool file = config->file_path[0] != '\0';
    if (!file && (!config->sms_url[0] || !config->smtp_url[0])) {
        snprintf(err, err_size,
                 "%s has no endpoint: set %s, or KEFU_NOTIFY_FILE for the file "
                 "channel",
                 config->sms_url[0] ? "e-mail" : "SMS",
                 config->sms_url[0] ? "KEFU_SMTP_URL" : "KEFU_SMS_URL");
        return NULL;
    }
    if (config->smtp_url[0] && !mail_address_ok(config->smtp_from)) {
        snprintf(err, err_size, "KEFU_SMTP_FROM is not a plain e-mail address");
        return NULL;
    }
    channels_t *self = (channels_t *)calloc(1, sizeof(channels_t));
    self->config = *config;
    self->fd = -1;
    if (s_open_file(self) != 0) {
        snprintf(err, err_size, "%s: %s", config->file_path, strerror(errno));
        free(self);
        return NULL;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (config->sms_url[0]) {
        self->http = curl_easy_init();
        self->http_headers = curl_slist_append(NULL, "Content-Type: application/json");
        self->http_headers = curl_slist_append(self->http_headers, "Expect:");
        if (config->sms_token[0]) {
            snprintf(self->auth_header, sizeof self->auth_header, "Authorization: Bearer %s",
                     config->sms_token);
            self->http_headers = curl_slist_append(self->http_headers, self->auth_header);
        }
    }
    if (config->smtp_url[0])
        self->smtp = curl_easy_init();
    return self;
}

void channels_destroy(channels_t **self_p)
{
    channels_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0)
        close(self->fd);
    if (self->http)
        curl_easy_cleanup(self->http);
    if (self->smtp)
        curl_easy_cleanup(self->smtp);
    curl_slist_free_all(self->http_headers);
    curl_global_cleanup();
    free(self);
    *self_p = NULL;
}

const char *channels_via(const channels_t *self, const char *channel)
{
    if (strcmp(channel, "sms") == 0)
        return self->http ? "http" : "file";
    return self->smtp ? "smtp" : "file";
}

int channels_reopen(channels_t *self)
{
    return s_open_file(self);
}

/* ---- file -------------------------------------------------------------- */

static send_outcome_t s_send_file(channels_t *self, const note_t *note, char *error,
                                  size_t error_size)
{
    if (self->fd < 0) {
        snprintf(error, error_size, "no file channel (KEFU_NOTIFY_FILE)");
        return SEND_RETRY;
    }
    /* "id" first, so that a crashed send can be looked for cheaply. */
    json_t *line = json_object();
    json_object_set_new(line, "id", json_integer(note->id));
    json_object_set_new(line, "event", json_string(note->event_id));
    json_object_set_new(line, "type", json_string(note->event_type));
    if (note->ticket[0])
        json_object_set_new(line, "ticket", json_string(note->ticket));
    json_object_set_new(line, "channel", json_string(note->channel));
    json_object_set_new(line, "recipient_kind", json_string(note->recipient_kind));
    json_object_set_new(line, "recipient", json_string(note->recipient_id));
    json_object_set_new(line, "to", json_string(note->address));
    json_object_set_new(line, "lang", json_string(note->lang));
    if (note->subject[0])
        json_object_set_new(line, "subject", json_string(note->subject));
    json_object_set_new(line, "text", json_string(note->body));
    json_object_set_new(line, "attempts", json_integer(note->attempts));
    json_object_set_new(line, "at", json_integer(kf_now_ms()));
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text) {
        snprintf(error, error_size, "the message does not encode as JSON");
        return SEND_FAIL;
    }
    size_t len = strlen(text);
    text[len] = '\n'; /* json_dumps's NUL becomes the line end: one write, one line */
    size_t done = 0;
    while (done < len + 1) {
        ssize_t n = write(self->fd, text + done, len + 1 - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(error, error_size, "file channel: %s", strerror(errno));
            free(text);
            return SEND_RETRY;
        }
        done += (size_t)n;
    }
    free(text);
    return SEND_OK;
}

static int s_cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int channels_file_holds(channels_t *self, const int64_t *ids, size_t count, bool *found)
{
    for (size_t i = 0; i < count; i++)
        found[i] = false;
    if (!self->config.file_path[0] || count == 0)
        return 0;
    FILE *file = fopen(self->config.file_path, "r");
    if (!file)
        return errno == ENOENT ? 0 : -1;
    int64_t *sorted = (int64_t *)malloc(count * sizeof(int64_t));
    memcpy(sorted, ids, count * sizeof(int64_t));
    qsort(sorted, count, sizeof(int64_t), s_cmp_id);
    bool *seen = (bool *)calloc(count, sizeof(bool));
    char *line = NULL;
    size_t size = 0;
    while (getline(&line, &size, file) > 0) {
        if (strncmp(line, "{\"id\":", 6) != 0)
            continue;
        int64_t id = strtoll(line + 6, NULL, 10);
        int64_t *hit = (int64_t *)bsearch(&id, sorted, count, sizeof(int64_t), s_cmp_id);
        if (hit)
            seen[hit - sorted] = true;
    }
    bool failed = ferror(file) != 0;
    free(line);
    fclose(file);
    for (size_t i = 0; i < count; i++) {
        int64_t *hit = (int64_t *)bsearch(&ids[i], sorted, count, sizeof(int64_t), s_cmp_id);
        found[i] = hit && seen[hit - sorted];
    }
    free(sorted);
    free(seen);
    return failed ? -1 : 0;
}

/* ---- SMS over HTTP ----------------------------------------------------- */

/* Keeps at most a little of a reply body, for the error message. */
typedef struct {
    char text[160];
    size_t used;
} s_reply_t;

static size_t s_on_reply(char *data, size_t size, size_t nmemb, void *arg)
{
    s_reply_t *reply = (s_reply_t *)arg;
    size_t n = size * nmemb, room = sizeof reply->text - 1 - reply->used;
    size_t take = n < room ? n : room;
    memcpy(reply->text + reply->used, data, take);
    reply->used += take;
    reply->text[reply->used] = '\0';
    return n;
}

/* The reply's text made safe for one log line: control bytes become spaces. */
static void s_flatten(char *text)
{
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < ' ')
            *p = ' ';
}

static send_outcome_t s_send_http(channels_t *self, const note_t *note, char *error,
                                  size_t error_size)
{
    char id[96];
    snprintf(id, sizeof id, "%s%" PRId64, self->config.sms_id_prefix, note->id);
    json_t *request =
        json_pack("{s:s, s:s, s:s}", "to", note->address, "text", note->body, "id", id);
    char *payload = request ? json_dumps(request, JSON_COMPACT) : NULL;
    json_decref(request);
    if (!payload) {
        snprintf(error, error_size, "the message does not encode as JSON");
        return SEND_FAIL;
    }
    s_reply_t reply = {.used = 0};
    char curl_error[CURL_ERROR_SIZE] = "";
    CURL *c = self->http;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, self->config.sms_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, self->http_headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, self->config.sms_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, self->config.sms_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_on_reply);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error);
    CURLcode rc = curl_easy_perform(c);
    free(payload);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    send_outcome_t outcome = channels_http_outcome(status);
    if (outcome != SEND_OK) {
        s_flatten(reply.text);
        if (rc != CURLE_OK)
            snprintf(error, error_size, "sms gateway: %s",
                     curl_error[0] ? curl_error : curl_easy_strerror(rc));
        else
            snprintf(error, error_size, "sms gateway: HTTP %ld %s", status, reply.text);
    }
    return outcome;
}

/* ---- e-mail over SMTP --------------------------------------------------- */

typedef struct {
    const char *data;
    size_t left;
} s_upload_t;

static size_t s_on_read(char *buffer, size_t size, size_t nitems, void *arg)
{
    s_upload_t *upload = (s_upload_t *)arg;
    size_t room = size * nitems, take = upload->left < room ? upload->left : room;
    memcpy(buffer, upload->data, take);
    upload->data += take;
    upload->left -= take;
    return take;
}

static send_outcome_t s_send_smtp(channels_t *self, const note_t *note, char *error,
                                  size_t error_size)
{
    if (!mail_address_ok(note->address)) {
        snprintf(error, error_size, "not an e-mail address kefu can send to");
        return SEND_FAIL;
    }
    mail_t mail = {.from = self->config.smtp_from,
                   .from_name = self->config.smtp_from_name,
                   .to = note->address,
                   .subject = note->subject,
                   .body = note->body,
                   .notification = note->id,
                   .event = note->event_id,
                   .date = (int64_t)time(NULL)};
    char *message = mail_build(&mail);
    if (!message) {
        snprintf(error, error_size, "the message cannot be built");
        return SEND_FAIL;
    }
    char from[300], to[300], curl_error[CURL_ERROR_SIZE] = "";
    snprintf(from, sizeof from, "<%s>", self->config.smtp_from);
    snprintf(to, sizeof to, "<%s>", note->address);
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    s_upload_t upload = {message, strlen(message)};
    CURL *c = self->smtp;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, self->config.smtp_url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, s_on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, self->config.smtp_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, self->config.smtp_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error);
    if (self->config.smtp_user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, self->config.smtp_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, self->config.smtp_password);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    free(message);
    if (rc == CURLE_OK)
        return SEND_OK;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    snprintf(error, error_size, "smtp: %ld %s", code,
             curl_error[0] ? curl_error : curl_easy_strerror(rc));
    return channels_smtp_outcome(code);
}

send_outcome_t channels_send(channels_t *self, const note_t *note, char *error, size_t error_size)
{
    error[0] = '\0';
    if (!note->address || !note->address[0]) {
        snprintf(error, error_size, "no address");
        return SEND_FAIL;
    }
    const char *via = channels_via(self, note->channel);
    if (strcmp(via, "http") == 0)
        return s_send_http(self, note, error, error_size);
    if (strcmp(via, "smtp") == 0)
        return s_send_smtp(self, note, error, error_size);
    return s_send_file(self, note, error, error_size);
}
