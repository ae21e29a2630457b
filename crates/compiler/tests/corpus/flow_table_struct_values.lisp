;; test: prog=p data=0a00000100000000000000000000000000 expect=1
;; test: prog=p data=0a00000100000000000000000000000000 expect=2
;; test: prog=p data=0a00000100000000000000000000000000 expect=3
;; test: prog=p data=0a00000200000000000000000000000000 expect=1
;; per-source state with struct values: look up, create on first sight, update in place
(defstruct flow-state (packets u64) (first-seen u64) (last-seen u64))
(defmap flows :type :hash :key-size 4 :value-type flow-state :max-entries 128)
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (let* ((src (load u32 data 0))
           (now (ktime-get-ns))
           (st (getmap flows src)))
      (if st
          (progn
            (atomic-add st 0 1)
            (setf (flow-state-last-seen st) now)
            (flow-state-packets st))
          (let ((fresh (make-flow-state)))
            (setf (flow-state-packets fresh) 1
                  (flow-state-first-seen fresh) now
                  (flow-state-last-seen fresh) now)
            (setf (getmap flows src) fresh)
            1)))))
