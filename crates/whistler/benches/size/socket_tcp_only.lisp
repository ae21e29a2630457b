;; A socket filter keeping TCP packets whole and nothing of the rest (its return value is how
;; many bytes the socket receives); the protocol byte is read with skb-load-bytes.
(defprog tcp-only (:type :socket-filter :section "socket" :license "GPL")
  (let ((protocol u8 0))
    (if (and (= (skb-load-bytes ctx 9 (stack-addr protocol) 1) 0)
             (= protocol IPPROTO_TCP))
        (ctx len)
        0)))
