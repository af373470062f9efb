/* SPDX-License-Identifier: Apache-2.0 */
/* The broker's deferred-completion queue: callbacks that must not run before their
 * call returns (produce, admin validate_only, watches) are queued here and run from
 * a uv_idle handle on the next loop turn. O(1) queue and cancel. Loop thread only. */
#include "broker/broker_internal.h"

static void on_idle(uv_idle_t *idle)
{
    gn_broker_t *broker = idle->data;
    gn__defer_run(broker);
    if (broker->ntasks == 0) uv_idle_stop(idle);
}

void gn__defer(gn_broker_t *broker, gn__task_t *task)
{
    if (task->queued) return;
    task->queued = true;
    task->next = NULL;
    task->prev = broker->task_tail;
    if (broker->task_tail)
        broker->task_tail->next = task;
    else
        broker->task_head = task;
    broker->task_tail = task;
    broker->ntasks++;
    if (!uv_is_active((uv_handle_t *)&broker->idle) &&
        !uv_is_closing((uv_handle_t *)&broker->idle)) {
        broker->idle.data = broker;
        uv_idle_start(&broker->idle, on_idle);
    }
}

void gn__defer_cancel(gn_broker_t *broker, gn__task_t *task)
{
    if (!task->queued) return;
    if (task->prev)
        task->prev->next = task->next;
    else
        broker->task_head = task->next;
    if (task->next)
        task->next->prev = task->prev;
    else
        broker->task_tail = task->prev;
    task->prev = task->next = NULL;
    task->queued = false;
    broker->ntasks--;
}

void gn__defer_run(gn_broker_t *broker)
{
    /* only what was queued before this turn: a task that re-queues waits a turn */
    size_t n = broker->ntasks;
    while (n-- > 0 && broker->task_head) {
        gn__task_t *task = broker->task_head;
        gn__defer_cancel(broker, task);
        task->run(task); /* may free task */
    }
}
