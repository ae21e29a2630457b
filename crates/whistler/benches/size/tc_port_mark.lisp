;; Marks TCP packets for policy routing by destination port (HTTPS 1, HTTP 2) and drops telnet.
(defprog mark-ports (:type :tc :section "tc" :license "GPL")
  (with-tc-tcp (data data-end tcp)
    (case (tcp-dst-port tcp)
      (443 (setf (ctx mark) 1))
      (80 (setf (ctx mark) 2))
      (23 (return TC_ACT_SHOT))))
  TC_ACT_OK)
