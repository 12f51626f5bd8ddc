"""IPython's history, kept working when its database file is replaced.

Kernels share `history.sqlite` of their profile. When one of them finds it
locked, IPython may call it corrupt and move it aside; the connections of the
other kernels then point at the moved file, and every write fails with
"attempt to write a readonly database". This manager notices that the file at
its path is no longer the one it opened (or that a database call failed),
opens the database at the path again, and writes the whole session into it
from memory: the session's history is never lost.
"""

import os
import threading

from IPython.core.history import HistoryManager, HistorySavingThread


def _sqlite_errors():
    import sqlite3

    return (sqlite3.DatabaseError,)  # OperationalError is a DatabaseError


class KernelHistoryManager(HistoryManager):
    _db_identity = None
    _opened = 0  # how many times init_db() ran
    # Held while rows taken from the caches are written (_writeout_from_thread);
    # one kernel has one history manager.
    _writing = threading.Lock()
    # Set by the saving thread when a write through its own connection failed.
    _stale = False
    # IPython's `_i`, `_ii`, `_iii` variables, shifted for every stored cell:
    # plain attributes instead of its traits, as in shell.py.
    _i00 = _i = _ii = _iii = ""

    # --- (re)opening --------------------------------------------------------

    def init_db(self):
        super().init_db()
        self._opened += 1
        self._db_identity = self._file_identity()
        if self.session_number:
            # Opened again for a running session: give the new file all of it.
            self._save_whole_session()

    def _file_identity(self):
        if str(self.hist_file) == ":memory:":
            return None
        try:
            st = os.stat(self.hist_file)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _on_disk(self):
        return self.enabled and str(self.hist_file) != ":memory:"

    def _is_stale(self):
        if not self._on_disk():
            return False
        identity = self._file_identity()
        return self._stale or identity is None or identity != self._db_identity

    def reopen(self):
        """Open the database at the path again and save the session into it."""
        self._stop_save_thread()
        try:
            self.db.close()
        except Exception:  # noqa: BLE001 - the old connection may be unusable
            pass
        self._stale = False
        self.init_db()  # calls _save_whole_session()
        if self.using_thread and self.hist_file != ":memory:":
            self.save_thread = HistorySavingThread(self)
            self.save_thread.start()

    def _save_whole_session(self):
        self.new_session()
        with self.db_input_cache_lock, self.db_output_cache_lock:
            inputs = [
                (self.session_number, line, self.input_hist_parsed[line], self.input_hist_raw[line])
                for line in range(1, min(len(self.input_hist_parsed), len(self.input_hist_raw)))
            ]
            outputs = []
            if self.db_log_output:
                outputs = [(self.session_number, line, text) for line, text in self.output_hist_reprs.items()]
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)", inputs)
                self.db.executemany("INSERT OR REPLACE INTO output_history VALUES (?, ?, ?)", outputs)
            # Everything in the caches is in memory too, and now saved.
            self.db_input_cache = []
            self.db_output_cache = []

    def _guarded(self, call, *args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            return call(*args, **kwargs)
        if self._is_stale():
            self.reopen()
        opened = self._opened
        try:
            result = call(*args, **kwargs)
        except _sqlite_errors():
            if not self._on_disk():
                raise
            self.reopen()
            return call(*args, **kwargs)
        if self._opened != opened:
            # IPython's own recovery (catch_corrupt_db) opened a new file
            # and answered nothing: ask the new file, which has the session.
            result = call(*args, **kwargs)
        return result

    # --- database access of the main thread ---------------------------------

    def writeout_cache(self, conn=None):
        if conn is not None and conn is not self.db:
            # The saving thread's own connection. If its file was moved, the
            # rows it held are still in memory: the next access from the main
            # thread reopens the database and saves them. Never an error
            # printed into some cell by the dying thread.
            try:
                return self._writeout_from_thread(conn)
            except _sqlite_errors():
                self._stale = True
                return None
        return self._guarded(self._writeout_after_thread)

    def _writeout_after_thread(self):
        # Rows the saving thread took are in the database before this
        # returns (a history request right after a cell sees the cell).
        with self._writing:
            return super().writeout_cache()

    def _writeout_from_thread(self, conn):
        """IPython's writeout_cache, but the caches are only swapped under
        their locks, not held while SQLite writes and syncs: IPython holds
        them, and every cell's store_inputs() waited for that write (one cell
        in db_cache_size, for the duration of an fsync)."""
        if not self.enabled:
            return
        import sqlite3

        with self._writing:
            with self.db_input_cache_lock:
                inputs, self.db_input_cache = self.db_input_cache, []
            with self.db_output_cache_lock:
                outputs, self.db_output_cache = self.db_output_cache, []
            try:
                self._insert(conn, "INSERT INTO history VALUES (?, ?, ?, ?)", inputs)
            except sqlite3.IntegrityError:
                self.new_session(conn)
                print("ERROR! Session/line number was not unique in", "database. History logging moved to new session",
                      self.session_number)
                try:
                    self._insert(conn, "INSERT INTO history VALUES (?, ?, ?, ?)", inputs)
                except sqlite3.IntegrityError:
                    pass
            try:
                self._insert(conn, "INSERT INTO output_history VALUES (?, ?, ?)", outputs)
            except sqlite3.IntegrityError:
                print("!! Session/line number for output was not unique", "in database. Output will not be stored.")

    def _insert(self, conn, statement, rows):
        with conn:
            for row in rows:
                conn.execute(statement, (self.session_number,) + row)

    def get_tail(self, *args, **kwargs):
        return self._guarded(lambda: list(super(KernelHistoryManager, self).get_tail(*args, **kwargs)))

    def get_range(self, *args, **kwargs):
        return self._guarded(lambda: list(super(KernelHistoryManager, self).get_range(*args, **kwargs)))

    def search(self, *args, **kwargs):
        return self._guarded(lambda: list(super(KernelHistoryManager, self).search(*args, **kwargs)))

    def end_session(self):
        return self._guarded(super().end_session)
