;; test: prog=tcp data=00000000000000000000000000000000000000000000000600000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=50
;; test: prog=tcp data=00000000000000000000000000000000000000000000001100000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=0
;; test: prog=past_end data=00000000000000000000000000000000000000000000000600000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=7
;; test: prog=zero_byte data=00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=2
;; a helper that fills a buffer zeroes it on failure (zeroed_buffer_checks): a status test
;; whose failure the zeroed byte decides the same way goes; one it does not decide stays
(defprog tcp (:type :socket-filter)
  (let ((protocol u8 0))
    (if (and (= (skb-load-bytes ctx 9 (stack-addr protocol) 1) 0) (= protocol 6))
        (ctx len)
        0)))

(defprog past-end (:type :socket-filter)
  (let ((protocol u8 0))
    (if (and (= (skb-load-bytes ctx 200 (stack-addr protocol) 1) 0) (= protocol 6))
        (ctx len)
        7)))

(defprog zero-byte (:type :socket-filter)
  (let ((b u8 1))
    (if (and (= (skb-load-bytes ctx 200 (stack-addr b) 1) 0) (= b 0)) 1 2)))
