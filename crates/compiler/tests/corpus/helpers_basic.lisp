;; test: prog=p expect=7
;; helpers by Lisp name: ktime-get-ns, get-prandom-u32, get-smp-processor-id
(defprog p (:type :xdp)
  (let ((t0 (ktime-get-ns))
        (r (get-prandom-u32))
        (cpu (get-smp-processor-id)))
    (+ (if (> t0 0) 1 0)
       (if (<= r #xffffffff) 2 0)
       (if (< cpu 4096) 4 0))))
