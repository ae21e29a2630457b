;; The status test of skb-load-bytes goes: on failure the byte is zeroed, not 6, so the
;; protocol test alone decides (no `if r0 != 0`).
(defprog tcp (:type :socket-filter)
  (let ((protocol u8 0))
    (if (and (= (skb-load-bytes ctx 9 (stack-addr protocol) 1) 0) (= protocol 6))
        (ctx len)
        0)))

