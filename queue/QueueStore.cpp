// QueueStore: implementation lands with the queue work (placeholder so the target builds).
