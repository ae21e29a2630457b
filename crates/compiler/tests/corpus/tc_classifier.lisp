;; test: prog=cls data=00000000000000000000000008060000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=2
;; test: prog=cls data=00000000000000000000000008000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=0
;; a tc (sched_cls) program reading __sk_buff fields and packet data
(defprog cls (:type :tc)
  (let ((data (ctx data)) (data-end (ctx data-end)))
    (when (> (+ data 14) data-end) (return TC_ACT_OK))
    (if (and (= (ntohs (load u16 data 12)) ETH_P_ARP) (> (ctx len) 20))
        TC_ACT_SHOT
        TC_ACT_OK)))
