/** How many recent ids are remembered: a few seconds of adds in a busy process, a few hundred kB at most. */
const REMEMBERED = 10_000;
/**
 * Larger inserts are not remembered: their NOTIFY payload gives counts, not ids (it must fit 8,000 bytes,
 * about 700 ids), so no event could be matched against them; remembering 1,000 ids per addBulk cost 3% of a
 * bulk add's CPU for nothing.
 */
const ITEMISED_AT_MOST = 500;

/**
 * The jobs this process added lately. Workers of the process learn of those at once (a local signal, or the
 * job handed straight to them), so the change feed's 'added' event for them, the echo of this process's own
 * statement, is no news: without this every add() to an idle local worker cost a second, empty claim, and
 * the claim on the wire kept the next add from being handed over (W4: 200 adds, 200 claims). The event may
 * arrive before the insert's own answer does, so an event waits for the adds that were on the wire with it.
 */
export class LocalAdds {
  private readonly ids = new Set<string>();
  private readonly onWire = new Set<number>();
  private next = 0;
  private waiters: { pending: Set<number>; answer: () => void }[] = [];

  /** An insert of this process goes on the wire; pass the token to settled() once it answered. */
  sent(): number {
    const token = this.next++;
    this.onWire.add(token);
    return token;
  }

  /** The insert answered: `ids` (none when it failed) were added by this process. */
  settled(token: number, ids: readonly string[]): void {
    if (ids.length <= ITEMISED_AT_MOST) {
      for (const id of ids) this.ids.add(id);
      for (const id of this.ids) {
        if (this.ids.size <= REMEMBERED) break;
        this.ids.delete(id); // oldest first: a Set iterates in insertion order
      }
    }
    this.onWire.delete(token);
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.pending.delete(token) && w.pending.size === 0);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.pending.size > 0);
    for (const w of ready) w.answer();
  }

  /**
   * Calls `decide` with whether every id was added by this process, once the inserts of this process that
   * were on the wire when it was asked (one of which may have added them) have answered.
   */
  whenKnown(ids: readonly string[], decide: (allLocal: boolean) => void): void {
    const allLocal = () => ids.length > 0 && ids.every((id) => this.ids.has(id));
    if (this.onWire.size === 0 || allLocal()) return decide(allLocal());
    this.waiters.push({ pending: new Set(this.onWire), answer: () => decide(allLocal()) });
  }
}
