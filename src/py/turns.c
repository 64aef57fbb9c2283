/*
 * turns.c: a queue of turns in front of an own-GIL interpreter's GIL.
 *
 * Why: request threads of one interpreter that all want its GIL run one
 * at a time whatever happens; but CPython makes each waiter time out
 * every switch interval and force the holder to let go, and every such
 * switch is two context switches and a cold cache for the code that was
 * running.  Issue 18's pool of two interpreters under sixteen requests
 * paid 1.3x the CPU per request of two prefork processes doing the same
 * work, with 9 thread switches per request against 1.6.  Here a request
 * thread first takes a turn of its interpreter: one turn, so one thread
 * at a time, in the order they came; a waiter sleeps on a condition of
 * its own and is handed the turn directly by the one that gives it
 * back (which wakes it, and the next waiter, which is first now and
 * looks at the holders while it waits, below).  The GIL is then always
 * free when a thread with a turn asks for it (but for the application's
 * own threads, which take no turns).
 *
 * A turn is held for the whole of a request's time in the interpreter,
 * the module's own I/O with the GIL dropped included (gil.c): giving it
 * up there and taking it back was two more hand-offs per request.  A
 * thread that holds its turn while blocked outside Python (a slow
 * client, a database call or time.sleep with the GIL dropped) would
 * hold up the interpreter while its GIL is free; so the first waiter
 * looks at the holders every half switch interval while no turn moves
 * (the others sleep until they are first).  A holder the kernel has not
 * running or ready to run is blocked (one only waiting for a core, on a
 * machine short of them, is not), and one that has held its turn for
 * ten intervals is long (a long request must not keep the short ones
 * waiting longer than that; they then share the GIL as they would
 * without turns): for each of those one more turn is let in.  The queue
 * narrows again as those holders give their turns back.  Both times are
 * kept within bounds whatever WSGISwitchInterval says (0.5 s was once
 * the README's advice for pools: looks a quarter of a second apart would
 * hold a request up that long behind a database call).  The look reads
 * /proc/self/task/TID/stat (an open, a read and a close), only while
 * requests wait and no turn moves.  A holder once excused stays so
 * until it leaves: its extra turn lasts at most that request, so the
 * queue cannot stay wide.
 *
 * A thread that ends while it holds a turn (CPython ends a thread that
 * attaches to an interpreter being finalised) gives it back on its way
 * out (a thread-specific key's destructor), so that no holder is left
 * on the list whose memory has gone.
 *
 * Plain pthreads and the module's monotonic clock: no Python, no Apache.
 */
#include "turns.h"
#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Python's default switch interval. */
#define WSL_TURN_INTERVAL_DEFAULT apr_time_from_msec(5)
/* The first waiter's looks: half an interval apart, within these (µs). */
#define WSL_TURN_LOOK_MIN 500
#define WSL_TURN_LOOK_MAX 2500
/* How long a holder may keep its turn before one more is let in: ten
 * intervals, within these. */
#define WSL_TURN_HOLD_MIN apr_time_from_msec(50)
#define WSL_TURN_HOLD_MAX apr_time_from_msec(250)

/* A thread, as a waiter and as a holder (one turn at a time: gil.c
 * never nests them). */
typedef struct turn_thread {
    pthread_cond_t cond;        /* it waits on its own */
    int ready;                  /* cond and tid made */
    int granted;                /* handed a turn while it waited */
    struct turn_thread *next;   /* in the queue of waiters */
    struct turn_thread *hnext, *hprev;  /* among the holders */
    long tid;                   /* its kernel thread id */
    apr_time_t since;           /* holds a turn since */
    int excused;                /* judged blocked or long: the turn let
                                 * in for it is taken back as it leaves */
} turn_thread;

struct wsl_turns {
    pthread_mutex_t lock;
    apr_interval_time_t look;   /* between the first waiter's looks */
    apr_interval_time_t hold;   /* a holder is long after this */
    int width;                  /* turns there may be: 1 + excused */
    int held;                   /* turns out, holders not yet awake
                                 * included */
    int excused;                /* holders excused */
    turn_thread *head, *tail;   /* waiters, in order */
    turn_thread *holders;
    apr_time_t moved;           /* a turn was last taken or handed on */
};

static _Thread_local turn_thread self;
/* The queue whose turn the thread holds: read by wsl_turns_held, and the
 * key's value too, for its destructor (thread_end). */
static _Thread_local wsl_turns *held;
static pthread_key_t held_key;
static pthread_once_t held_key_once = PTHREAD_ONCE_INIT;

static apr_interval_time_t clamp(apr_interval_time_t t,
                                 apr_interval_time_t lo,
                                 apr_interval_time_t hi)
{
    return t < lo ? lo : t > hi ? hi : t;
}

static void pace(wsl_turns *q, apr_interval_time_t interval)
{
    q->look = clamp(interval / 2, WSL_TURN_LOOK_MIN, WSL_TURN_LOOK_MAX);
    q->hold = clamp(interval * 10, WSL_TURN_HOLD_MIN, WSL_TURN_HOLD_MAX);
}

wsl_turns *wsl_turns_new(void)
{
    wsl_turns *q = calloc(1, sizeof(*q));

    if (!q)
        return NULL;
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q);
        return NULL;
    }
    pace(q, WSL_TURN_INTERVAL_DEFAULT);
    q->width = 1;
    return q;
}

void wsl_turns_free(wsl_turns *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    free(q);
}

void wsl_turns_set_interval(wsl_turns *q, apr_interval_time_t interval)
{
    pthread_mutex_lock(&q->lock);
    pace(q, interval > 0 ? interval : WSL_TURN_INTERVAL_DEFAULT);
    pthread_mutex_unlock(&q->lock);
}

/* A thread that ends holding a turn (its thread-local self is still
 * there while thread-specific destructors run). */
static void thread_end(void *q)
{
    wsl_turns_give(q);
}

static void held_key_make(void)
{
    (void)pthread_key_create(&held_key, thread_end);
}

/* The thread's condition waits with CLOCK_MONOTONIC deadlines: a step
 * of the wall clock must not stretch a wait. */
static void thread_ready(turn_thread *me)
{
    pthread_once(&held_key_once, held_key_make);
    wsl_clock_cond_init(&me->cond);
    me->tid = (long)syscall(SYS_gettid);
    me->ready = 1;
}

/* Whether the kernel has thread tid of this process running or ready to
 * run (state R in /proc): 1, 0, or -1 if it cannot tell. */
static int runnable(long tid)
{
    char path[64], buf[512], *state;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", tid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The state follows the command, which is in parentheses and may
     * hold anything, ')' included. */
    if (!(state = strrchr(buf, ')')) || state[1] != ' ')
        return -1;
    return state[2] == 'R';
}

/* Hand a turn to the first waiter (q->lock held; the caller counts it
 * in held). */
static void grant_head(wsl_turns *q)
{
    turn_thread *w = q->head;

    if (!(q->head = w->next))
        q->tail = NULL;
    w->next = NULL;
    w->granted = 1;
    q->moved = wsl_clock_now();
    pthread_cond_signal(&w->cond);
    /* The next one is first now: woken, to look at the holders from now
     * on (the others sleep without a deadline: a waiter woken every
     * interval, as CPython's GIL wakes them, is the cost turns remove). */
    if (q->head)
        pthread_cond_signal(&q->head->cond);
}

/* The first waiter's look at the holders, no turn having moved for a
 * while (q->lock held): how many more turns to let in, one for each
 * holder newly found blocked or long.  A state that cannot be read
 * says nothing: that holder is let off (as if there were no turns). */
static int newly_excused(wsl_turns *q, apr_time_t now)
{
    turn_thread *h;
    int more = 0;

    for (h = q->holders; h; h = h->hnext) {
        if (h->excused ||
            (now - h->since < q->hold &&
             runnable(h->tid) == 1))
            continue;
        h->excused = 1;
        q->excused++;
        more++;
    }
    return more;
}

void wsl_turns_take(wsl_turns *q)
{
    turn_thread *me = &self;

    if (!me->ready)
        thread_ready(me);
    pthread_mutex_lock(&q->lock);
    if (!q->head && q->held < q->width) {
        q->held++;
        q->moved = wsl_clock_now();
    }
    else {
        me->granted = 0;
        me->next = NULL;
        if (q->tail)
            q->tail->next = me;
        else
            q->head = me;
        q->tail = me;
        while (!me->granted) {
            /* Only the first waiter looks at the holders (grant_head
             * wakes the next one as it becomes first).  The others wait
             * without a deadline but a long one, in case. */
            int first = q->head == me;
            struct timespec ts = wsl_clock_deadline_in(first ? q->look
                                                             : q->hold);
            apr_time_t now;
            int rc = pthread_cond_timedwait(&me->cond, &q->lock, &ts);

            /* Not first before the wait: it may be now, and its looks
             * begin. */
            if (me->granted || q->head != me || !first || rc != ETIMEDOUT)
                continue;
            now = wsl_clock_now();
            if (q->held >= q->width && now - q->moved >= q->look)
                q->width += newly_excused(q, now);
            if (q->held < q->width) {
                q->held++;
                grant_head(q);
            }
        }
    }
    me->since = wsl_clock_now();
    me->excused = 0;
    me->hprev = NULL;
    if ((me->hnext = q->holders))
        q->holders->hprev = me;
    q->holders = me;
    pthread_mutex_unlock(&q->lock);
    held = q;
    pthread_setspecific(held_key, q);
}

wsl_turns *wsl_turns_held(void)
{
    return held;
}

void wsl_turns_give(wsl_turns *q)
{
    turn_thread *me = &self;

    held = NULL;
    pthread_setspecific(held_key, NULL);
    pthread_mutex_lock(&q->lock);
    if (me->hprev)
        me->hprev->hnext = me->hnext;
    else
        q->holders = me->hnext;
    if (me->hnext)
        me->hnext->hprev = me->hprev;
    if (me->excused) {
        me->excused = 0;
        q->excused--;
    }
    /* Not a move: the first waiter's look is due as before (grant_head
     * counts the hand-off as one). */
    if (q->width > 1 + q->excused) {
        /* A turn let in for a holder that has gone: taken back. */
        q->width--;
        q->held--;
    }
    else if (q->head) {
        grant_head(q);          /* the turn passes on: held unchanged */
    }
    else {
        q->held--;
    }
    pthread_mutex_unlock(&q->lock);
}
