;; test: prog=p expect=2
;; with-ringbuf reserves, runs the body and submits
(defstruct ev (pid u32) (len u32) (ts u64))
(defmap events :type :ringbuf :max-entries 4096)
(defmap seen :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog p (:type :xdp)
  (with-ringbuf (e events (sizeof ev))
    (setf (ev-pid e) 1 (ev-len e) 64 (ev-ts e) (ktime-get-ns))
    (incf (getmap seen 0)))
  (with-ringbuf (e events 16 :flags 0)
    (memset e 0 0 16))
  XDP_PASS)
