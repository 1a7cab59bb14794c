package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// fileName is the store's file inside the state folder.
const fileName = "queue.db"

var (
	bucketMeta = []byte("meta")
	keyCounter = []byte("counter")
	keyVersion = []byte("version")
)

const formatVersion = 1

func bucketOf(k Kind) []byte {
	switch k {
	case KindPending:
		return []byte("pending")
	case KindRunning:
		return []byte("running")
	case KindHistory:
		return []byte("history")
	}
	return nil
}

// boltStore is the embedded Store: one bbolt file, one bucket per Kind.
type boltStore struct {
	db *bolt.DB
}

// openBolt opens dir/queue.db. A file that bbolt rejects as damaged (or that
// panics while being walked) is renamed aside and a fresh one created, so a
// broken state file never stops comfyd from starting; the caller's Load
// callback sees only the records of whichever file was finally opened.
func openBolt(dir string, sync bool, log *slog.Logger) (*boltStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fileName)
	s, err := tryOpenBolt(path, sync)
	if err == nil {
		if err := s.dropMalformedKeys(log); err != nil {
			s.Close()
			return nil, err
		}
		if sync {
			syncDir(dir) // a new file's directory entry must survive power loss too
		}
		return s, nil
	}
	if !damaged(err) {
		return nil, err
	}
	aside := fmt.Sprintf("%s.corrupt-%s", path, time.Now().UTC().Format("20060102T150405.000000000"))
	log.Warn("queue: state file is damaged; starting with an empty queue and history",
		"file", path, "moved_to", aside, "err", err)
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, fmt.Errorf("queue: %v, and moving it aside failed: %w", err, rerr)
	}
	if s, err = tryOpenBolt(path, sync); err == nil && sync {
		syncDir(dir)
	}
	return s, err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// dropMalformedKeys deletes records whose key is not a sequence number (a
// Record cannot name them, so the Queue could not drop them itself).
func (s *boltStore) dropMalformedKeys(log *slog.Logger) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, kind := range []Kind{KindPending, KindRunning, KindHistory} {
			b := tx.Bucket(bucketOf(kind))
			var bad [][]byte
			b.ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					bad = append(bad, slices.Clone(k))
				}
				return nil
			})
			for _, k := range bad {
				log.Warn("queue: skipping corrupt record", "kind", kind.String(), "key", fmt.Sprintf("%q", k), "err", "malformed key")
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func tryOpenBolt(path string, sync bool) (s *boltStore, err error) {
	var db *bolt.DB
	// A damaged page can make bbolt panic instead of returning an error
	// (View rolls its transaction back while the panic unwinds, so Close
	// does not block), and a page past the end of a truncated file faults
	// (SIGBUS on the mmap): make that a panic too, for this goroutine, while
	// every page is visited once below.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				db.Close()
			}
			s, err = nil, &damageError{fmt.Errorf("bbolt panicked: %v", r)}
		}
	}()
	db, err = bolt.Open(path, 0o644, &bolt.Options{
		// Another comfyd holding the file: fail instead of hanging forever.
		Timeout: 2 * time.Second,
		NoSync:  !sync,
		// NoFreelistSync would save a page write per commit, but rebuilding
		// the freelist on open checks the file in a goroutine of bbolt's
		// own that panics, uncatchably, on a damaged page.
		FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("queue: %s is locked by another process: %w", path, err)
		}
		return nil, &damageError{err}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketOf(KindPending), bucketOf(KindRunning), bucketOf(KindHistory)} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyVersion); v == nil {
			return meta.Put(keyVersion, []byte{formatVersion})
		} else if len(v) != 1 || v[0] > formatVersion {
			return fmt.Errorf("queue: %s has format version %v, newer than this comfyd understands (%d)", path, v, formatVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		if errors.Is(err, bolterrors.ErrBucketNameRequired) || errors.Is(err, bolterrors.ErrIncompatibleValue) {
			return nil, &damageError{err}
		}
		return nil, err
	}
	// Walk every page once now, values included, so that a damaged tree or
	// a truncated file is found here (and the file moved aside) rather than
	// by a panic or a fault in the middle of serving.
	if err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				crc32.ChecksumIEEE(v)
				return nil
			})
		})
	}); err != nil {
		db.Close()
		return nil, &damageError{err}
	}
	return &boltStore{db: db}, nil
}

type damageError struct{ err error }

func (e *damageError) Error() string { return e.err.Error() }
func (e *damageError) Unwrap() error { return e.err }

func damaged(err error) bool {
	var d *damageError
	return errors.As(err, &d)
}

func key(k uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], k) // big-endian: byte order = numeric order
	return b[:]
}

func (s *boltStore) Load(fn func(Record) error) (counter int64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyCounter); len(v) == 8 {
			counter = int64(binary.BigEndian.Uint64(v))
		}
		for _, kind := range []Kind{KindPending, KindRunning, KindHistory} {
			err := tx.Bucket(bucketOf(kind)).ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					return nil // dropped by dropMalformedKeys
				}
				return fn(Record{Kind: kind, Key: binary.BigEndian.Uint64(k), Value: v})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return counter, err
}

func (s *boltStore) Apply(b *Batch) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if b.Counter != 0 {
			if err := tx.Bucket(bucketMeta).Put(keyCounter, key(uint64(b.Counter))); err != nil {
				return err
			}
		}
		if b.ClearPending {
			if err := recreate(tx, bucketOf(KindPending)); err != nil {
				return err
			}
		}
		if b.ClearHistory {
			if err := recreate(tx, bucketOf(KindHistory)); err != nil {
				return err
			}
		}
		for _, op := range b.Ops {
			bk := tx.Bucket(bucketOf(op.Kind))
			if bk == nil {
				return fmt.Errorf("queue: unknown record kind %d", op.Kind)
			}
			var err error
			if op.Value == nil {
				err = bk.Delete(key(op.Key))
			} else {
				err = bk.Put(key(op.Key), op.Value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// recreate empties a bucket in O(pages) rather than deleting key by key.
func recreate(tx *bolt.Tx, name []byte) error {
	if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return err
	}
	_, err := tx.CreateBucket(name)
	return err
}

func (s *boltStore) Close() error { return s.db.Close() }
