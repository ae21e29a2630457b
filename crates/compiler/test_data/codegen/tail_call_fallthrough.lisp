;; test: prog=dispatch expect=2
;; tail-call into an empty slot falls through
(defmap jt :type :prog-array :max-entries 4)
(defprog dispatch (:type :xdp)
  (tail-call jt 1)
  XDP_PASS)
(defprog handler (:type :xdp :section "xdp")
  XDP_DROP)
