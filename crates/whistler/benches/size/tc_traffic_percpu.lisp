;; Packets and bytes through a tc hook, per CPU, in one two-counter struct value.
(defstruct traffic (packets u64) (bytes u64))
(defmap traffic-totals :type :percpu-array :key-size 4 :value-type traffic :max-entries 1)
(defprog count-traffic (:type :tc :section "tc" :license "GPL")
  (let ((totals (getmap traffic-totals 0)))
    (when totals
      (setf (traffic-packets totals) (+ (traffic-packets totals) 1)
            (traffic-bytes totals) (+ (traffic-bytes totals) (ctx len)))))
  TC_ACT_OK)
