"""A small stateful Mistral fake: RUNNING waits that a PUT completes (once)."""

from listener.nova.waits import Completion, Recovery, Wait
from notifications.contract import MistralUnavailable


class FakeWaits:
    def __init__(self):
        self.waits = {}  # id -> Wait (RUNNING)
        self.done = {}  # id -> output
        self.recovering_ids = {}  # instance -> [execution ids]
        self.finished = set()  # instance ids with a completed wait
        self.failures = 0  # next N calls raise MistralUnavailable
        self.appear_after = {}  # instance -> number of lookups before its wait appears
        self.pending = {}
        self.lookups = 0
        self.unlisted = set()  # wait ids newer than the cached list: only a fresh read sees

    def add(self, wait_id, instance_id, **inputs):
        wait = Wait(id=wait_id, instance_id=instance_id,
                    input={"instance_id": instance_id, **inputs})
        self.recovering_ids.setdefault(instance_id, ["ex-" + instance_id])
        if instance_id in self.appear_after:
            self.pending[instance_id] = wait
        else:
            self.waits[wait_id] = wait
        return wait

    def _maybe_fail(self):
        if self.failures:
            self.failures -= 1
            raise MistralUnavailable("fake outage")

    def running_waits(self, fresh=False):
        self._maybe_fail()
        self.lookups += 1
        for instance, wait in list(self.pending.items()):
            self.appear_after[instance] -= 1
            if self.appear_after[instance] <= 0:
                self.waits[wait.id] = self.pending.pop(instance)
        if fresh:
            self.unlisted.clear()
        return [w for w in self.waits.values() if w.id not in self.unlisted]

    def recovering(self, instance_id, fresh=False):
        self._maybe_fail()
        return [Recovery(ex, "inc") for ex in self.recovering_ids.get(instance_id, [])]

    def finished_wait(self, recovery, instance_id):
        return instance_id in self.finished

    def complete(self, wait_id, output):
        self._maybe_fail()
        if wait_id in self.done:
            return Completion.DUPLICATE
        if wait_id not in self.waits:
            return Completion.GONE
        wait = self.waits.pop(wait_id)
        self.done[wait_id] = output
        self.finished.add(wait.instance_id)
        return Completion.COMPLETED
