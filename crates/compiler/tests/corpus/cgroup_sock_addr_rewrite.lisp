;; load-only
;; connect4 hooks rewrite the destination through setf on ctx fields
(defprog connect4 (:type :cgroup-sock-addr :section "cgroup/connect4")
  (when (= (ctx user-port) (htons 9999))
    (setf (ctx user-ip4) (htonl #x7f000001))
    (setf (ctx user-port) (htons 8080)))
  1)
