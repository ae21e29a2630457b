;;; The Common Lisp library written in Lisp: macros that are plain rewrites and functions that
;;; are short in Lisp. Loaded into every evaluator (see prelude.rs).

;;; Conditions and restarts

(defmacro handler-bind (bindings &body body)
  `(%call-with-handlers
    (list ,@(mapcar (lambda (b) `(cons ',(first b) ,(second b))) bindings))
    (lambda () ,@body)))

(defun %restart-clause-parts (clause)
  "(name lambda-list [:report r] [:interactive f] [:test f] . body) -> (report interactive body)"
  (let ((rest (cddr clause)) (report nil) (interactive nil))
    (loop while (and rest (member (car rest) '(:report :interactive :test)))
          do (case (car rest)
               (:report (setf report (cadr rest)))
               (:interactive (setf interactive (cadr rest))))
             (setf rest (cddr rest)))
    (list report interactive rest)))

(defmacro restart-case (form &rest clauses)
  `(%call-with-restarts
    (list ,@(mapcar
             (lambda (clause)
               (destructuring-bind (report interactive body) (%restart-clause-parts clause)
                 `(list ',(first clause)
                        ,(if (stringp report) report nil)
                        ,(if interactive `(function ,interactive) nil)
                        (lambda ,(second clause) ,@body)
                        t)))
             clauses))
    (lambda () ,form)))

(defmacro restart-bind (bindings &body body)
  `(%call-with-restarts
    (list ,@(mapcar (lambda (b)
                      (let ((report (getf (cddr b) :report-function)))
                        `(list ',(first b) nil
                               ,(getf (cddr b) :interactive-function)
                               ,(second b) nil
                               ,@(if report nil nil))))
                    bindings))
    (lambda () ,@body)))

(defmacro with-simple-restart ((name format-control &rest args) &body body)
  (declare (ignore args))
  `(restart-case (progn ,@body)
     (,name () :report ,format-control (values nil t))))

(defmacro with-condition-restarts (condition restarts &body body)
  (declare (ignore condition restarts))
  `(progn ,@body))

;;; Streams and files

(defmacro with-open-stream ((var stream) &body body)
  `(let ((,var ,stream))
     (unwind-protect (progn ,@body)
       (when ,var (close ,var)))))

(defmacro with-open-file ((var path &rest options) &body body)
  `(with-open-stream (,var (open ,path ,@options)) ,@body))

(defmacro with-input-from-string ((var string &key (start 0) end index) &body body)
  `(let ((,var (make-string-input-stream ,string ,start ,end)))
     (multiple-value-prog1 (progn ,@body)
       ,@(when index `((setf ,index (file-position ,var)))))))

(defmacro with-standard-io-syntax (&body body)
  `(let ((*print-base* 10) (*print-radix* nil) (*print-case* :upcase) (*print-escape* t)
         (*print-readably* nil) (*read-base* 10))
     ,@body))

;;; Places

(defmacro define-modify-macro (name lambda-list function &optional documentation)
  (declare (ignore documentation))
  (let ((place (gensym "PLACE"))
        (rest (cadr (member '&rest lambda-list)))
        (vars (loop for p in lambda-list
                    until (eq p '&rest)
                    unless (eq p '&optional)
                      collect (if (consp p) (car p) p))))
    `(defmacro ,name (,place ,@lambda-list)
       (list* '%apply-to-place ,place '(function ,function)
              ,(if rest `(list* ,@vars ,rest) `(list ,@vars))))))

(defun %define-setf-function (accessor function)
  (%set-setf-function accessor function)
  accessor)

(defmacro defsetf (access &rest spec)
  (if (and spec (listp (first spec)))
      (destructuring-bind (lambda-list (store) &body body) spec
        (let ((new (gensym "NEW"))
              (vars (loop for p in lambda-list
                          unless (member p '(&optional &rest &key))
                            collect (if (consp p) (car p) p))))
          `(%define-setf-function
            ',access
            (lambda (,new ,@lambda-list)
              (let ((,store (list 'quote ,new))
                    ,@(mapcar (lambda (v) `(,v (list 'quote ,v))) vars))
                (eval (progn ,@body)))))))
      `(%define-setf-function
        ',access
        (lambda (new &rest args) (apply #',(first spec) (append args (list new)))))))

(defun %remove-property (plist indicator)
  (loop for (key value) on plist by #'cddr
        unless (eq key indicator) append (list key value)))

(defmacro remf (place indicator)
  (let ((g (gensym)))
    `(let ((,g ,indicator))
       (prog1 (if (nth-value 2 (get-properties ,place (list ,g))) t nil)
         (%apply-to-place ,place #'%remove-property ,g)))))

(defun get-properties (plist indicators)
  (loop for tail on plist by #'cddr
        when (member (car tail) indicators)
          do (return-from get-properties (values (car tail) (cadr tail) tail)))
  (values nil nil nil))

(defun (setf symbol-plist) (plist symbol) (%set-symbol-plist symbol plist))

(defun remprop (symbol indicator)
  (let ((found (nth-value 2 (get-properties (symbol-plist symbol) (list indicator)))))
    (when found
      (setf (symbol-plist symbol) (%remove-property (symbol-plist symbol) indicator))
      t)))

;;; Control

(defmacro prog (bindings &body body)
  `(block nil (let ,bindings (tagbody ,@body))))

(defmacro prog* (bindings &body body)
  `(block nil (let* ,bindings (tagbody ,@body))))

(defmacro multiple-value-prog1 (first &body body)
  (let ((values (gensym "VALUES")))
    `(let ((,values (multiple-value-list ,first)))
       ,@body
       (values-list ,values))))

(defmacro multiple-value-setq (vars form)
  (let ((values (gensym "VALUES")))
    `(let ((,values (multiple-value-list ,form)))
       ,@(loop for v in vars for i from 0 collect `(setq ,v (nth ,i ,values)))
       (car ,values))))

(defmacro load-time-value (form &optional read-only-p)
  (declare (ignore read-only-p))
  form)

(defmacro ccase (keyform &body clauses) `(ecase ,keyform ,@clauses))
(defmacro ctypecase (keyform &body clauses) `(etypecase ,keyform ,@clauses))

(defmacro with-hash-table-iterator ((name table) &body body)
  (let ((entries (gensym "ENTRIES")))
    `(let ((,entries (let ((acc nil))
                       (maphash (lambda (k v) (push (list k v) acc)) ,table)
                       (nreverse acc))))
       (macrolet ((,name ()
                    '(let ((entry (pop ,entries)))
                      (if entry (values t (first entry) (second entry)) nil))))
         ,@body))))

(defmacro formatter (control)
  `(lambda (stream &rest args) (apply #'format stream ,control args) nil))

(defmacro with-compilation-unit (options &body body)
  (declare (ignore options))
  `(progn ,@body))

(defun proclaim (declaration) (declare (ignore declaration)) nil)

;;; Conses

(defun rplaca (cons object) (setf (car cons) object) cons)
(defun rplacd (cons object) (setf (cdr cons) object) cons)
(defun caaaar (x) (car (car (car (car x)))))
(defun caaadr (x) (car (car (car (cdr x)))))
(defun caadar (x) (car (car (cdr (car x)))))
(defun caaddr (x) (car (car (cdr (cdr x)))))
(defun cadaar (x) (car (cdr (car (car x)))))
(defun cadadr (x) (car (cdr (car (cdr x)))))
(defun caddar (x) (car (cdr (cdr (car x)))))
(defun cdaaar (x) (cdr (car (car (car x)))))
(defun cdaadr (x) (cdr (car (car (cdr x)))))
(defun cdadar (x) (cdr (car (cdr (car x)))))
(defun cdaddr (x) (cdr (car (cdr (cdr x)))))
(defun cddaar (x) (cdr (cdr (car (car x)))))
(defun cddadr (x) (cdr (cdr (car (cdr x)))))
(defun cdddar (x) (cdr (cdr (cdr (car x)))))

(defun revappend (list tail)
  (dolist (x list tail) (push x tail)))
(defun nreconc (list tail) (revappend list tail))
(defun nbutlast (list &optional (n 1)) (butlast list n))

(defun ldiff (list object)
  (loop for tail on list
        until (eql tail object)
        collect (car tail)))

(defun tailp (object list)
  (loop for tail = list then (cdr tail)
        do (when (eql tail object) (return t))
           (unless (consp tail) (return nil))))

(defun copy-alist (alist)
  (mapcar (lambda (entry) (if (consp entry) (cons (car entry) (cdr entry)) entry)) alist))

(defun assoc-if-not (predicate alist &key key)
  (assoc-if (complement predicate) alist :key key))
(defun rassoc-if (predicate alist &key key)
  (find-if predicate alist :key (lambda (e) (and e (funcall (or key #'identity) (cdr e))))))
(defun rassoc-if-not (predicate alist &key key)
  (rassoc-if (complement predicate) alist :key key))

(defun subst-if (new predicate tree &key key)
  (labels ((walk (x)
             (cond ((funcall predicate (if key (funcall key x) x)) new)
                   ((consp x) (cons (walk (car x)) (walk (cdr x))))
                   (t x))))
    (walk tree)))
(defun subst-if-not (new predicate tree &key key)
  (subst-if new (complement predicate) tree :key key))
(defun nsubst (new old tree &rest options) (apply #'subst new old tree options))
(defun nsubst-if (new predicate tree &rest options) (apply #'subst-if new predicate tree options))
(defun nsubst-if-not (new predicate tree &rest options)
  (apply #'subst-if-not new predicate tree options))

(defun sublis (alist tree &key key (test #'eql) test-not)
  (labels ((walk (x)
             (let ((hit (assoc (if key (funcall key x) x) alist
                               :test (if test-not (complement test-not) test))))
               (cond (hit (cdr hit))
                     ((consp x) (cons (walk (car x)) (walk (cdr x))))
                     (t x)))))
    (walk tree)))
(defun nsublis (alist tree &rest options) (apply #'sublis alist tree options))

(defun set-exclusive-or (list1 list2 &rest options)
  (append (apply #'set-difference list1 list2 options)
          (apply #'set-difference list2 list1 options)))
(defun nset-exclusive-or (list1 list2 &rest options) (apply #'set-exclusive-or list1 list2 options))
(defun nintersection (list1 list2 &rest options) (apply #'intersection list1 list2 options))
(defun nunion (list1 list2 &rest options) (apply #'union list1 list2 options))
(defun nset-difference (list1 list2 &rest options) (apply #'set-difference list1 list2 options))

;;; Sequences

(defun %seq-key (key) (or key #'identity))

(defun %matcher (item test test-not key)
  (let ((key (%seq-key key)))
    (cond (test-not (lambda (x) (not (funcall test-not item (funcall key x)))))
          (test (lambda (x) (funcall test item (funcall key x))))
          (t (lambda (x) (eql item (funcall key x)))))))

(defun substitute-if (new predicate sequence &key from-end (start 0) end count key)
  (let* ((items (coerce sequence 'list))
         (end (or end (length items)))
         (key (%seq-key key))
         (indexes (loop for x in items for i from 0
                        when (and (<= start i) (< i end) (funcall predicate (funcall key x)))
                          collect i))
         (chosen (if count
                     (if from-end (last indexes count) (subseq indexes 0 (min count (length indexes))))
                     indexes))
         (result (loop for x in items for i from 0
                       collect (if (member i chosen) new x))))
    (coerce result (if (listp sequence) 'list (if (stringp sequence) 'string 'vector)))))

(defun substitute-if-not (new predicate sequence &rest options)
  (apply #'substitute-if new (complement predicate) sequence options))

(defun substitute (new old sequence &key from-end (start 0) end count key test test-not)
  (substitute-if new (%matcher old test test-not nil) sequence
                 :from-end from-end :start start :end end :count count :key key))

(defun nsubstitute (&rest args) (apply #'substitute args))
(defun nsubstitute-if (&rest args) (apply #'substitute-if args))
(defun nsubstitute-if-not (&rest args) (apply #'substitute-if-not args))
(defun delete-duplicates (sequence &rest options) (apply #'remove-duplicates sequence options))

(defun mismatch (sequence1 sequence2 &key from-end (test #'eql) test-not key
                                          (start1 0) end1 (start2 0) end2)
  (let* ((a (subseq (coerce sequence1 'list) start1 end1))
         (b (subseq (coerce sequence2 'list) start2 end2))
         (key (%seq-key key))
         (same (lambda (x y)
                 (if test-not
                     (not (funcall test-not (funcall key x) (funcall key y)))
                     (funcall test (funcall key x) (funcall key y))))))
    (if from-end
        (let ((i (length a)) (j (length b)))
          (loop while (and (> i 0) (> j 0) (funcall same (nth (1- i) a) (nth (1- j) b)))
                do (decf i) (decf j))
          (if (and (= i 0) (= j 0)) nil (+ start1 i)))
        (let ((i 0))
          (loop while (and (< i (length a)) (< i (length b))
                           (funcall same (nth i a) (nth i b)))
                do (incf i))
          (if (and (= i (length a)) (= i (length b))) nil (+ start1 i))))))

(defun fill (sequence item &key (start 0) end)
  (cond ((listp sequence)
         (loop for tail on (nthcdr start sequence)
               for i from start
               while (or (null end) (< i end))
               do (setf (car tail) item))
         sequence)
        ((vectorp sequence)
         (loop for i from start below (or end (length sequence))
               do (setf (aref sequence i) item))
         sequence)
        (t (error 'type-error :datum sequence :expected-type 'sequence))))

(defun replace (sequence1 sequence2 &key (start1 0) end1 (start2 0) end2)
  (let* ((source (subseq (coerce sequence2 'list) start2 end2))
         (end1 (or end1 (length sequence1)))
         (n (min (length source) (- end1 start1))))
    (cond ((listp sequence1)
           (loop for tail on (nthcdr start1 sequence1)
                 for x in (subseq source 0 n)
                 do (setf (car tail) x)))
          ((vectorp sequence1)
           (loop for i from 0 below n
                 do (setf (aref sequence1 (+ start1 i)) (nth i source))))
          (t (error 'type-error :datum sequence1 :expected-type 'vector)))
    sequence1))

(defun (setf subseq) (new sequence start &optional end)
  (replace sequence new :start1 start :end1 end)
  new)

(defun map-into (result function &rest sequences)
  (let ((n (reduce #'min (mapcar #'length sequences) :initial-value (length result))))
    (dotimes (i n result)
      (setf (elt result i) (apply function (mapcar (lambda (s) (elt s i)) sequences))))))

(defun make-sequence (type size &key (initial-element nil given))
  (let ((kind (if (consp type) (car type) type)))
    (case kind
      ((list cons null) (make-list size :initial-element initial-element))
      ((string simple-string base-string)
       (make-string size :initial-element (if given initial-element #\Space)))
      (t (make-array size :initial-element initial-element)))))

(defun make-string (size &key (initial-element #\Space) element-type)
  (declare (ignore element-type))
  (coerce (make-list size :initial-element initial-element) 'string))

(defun merge (result-type sequence1 sequence2 predicate &key key)
  (let ((a (coerce sequence1 'list)) (b (coerce sequence2 'list))
        (key (%seq-key key)) (out nil))
    (loop while (and a b)
          do (if (funcall predicate (funcall key (car b)) (funcall key (car a)))
                 (push (pop b) out)
                 (push (pop a) out)))
    (coerce (append (nreverse out) a b) result-type)))

;;; Characters and strings

(defun char-lessp (&rest chars) (apply #'char< (mapcar #'char-downcase chars)))
(defun char-greaterp (&rest chars) (apply #'char> (mapcar #'char-downcase chars)))
(defun char-not-greaterp (&rest chars) (apply #'char<= (mapcar #'char-downcase chars)))
(defun char-not-lessp (&rest chars) (apply #'char>= (mapcar #'char-downcase chars)))
(defun char-not-equal (&rest chars) (apply #'char/= (mapcar #'char-downcase chars)))
(defun char<= (&rest chars) (every (lambda (a b) (<= (char-code a) (char-code b))) chars (cdr chars)))
(defun char>= (&rest chars) (every (lambda (a b) (>= (char-code a) (char-code b))) chars (cdr chars)))
(defun char-int (char) (char-code char))
(defun both-case-p (char) (or (upper-case-p char) (lower-case-p char)))
(defun graphic-char-p (char) (let ((code (char-code char))) (or (= code 32) (and (> code 32) (/= code 127) (not (<= 128 code 159))))))
(defun standard-char-p (char)
  (let ((code (char-code char))) (or (= code 10) (<= 32 code 126))))
(defun character (designator)
  (cond ((characterp designator) designator)
        ((and (stringp designator) (= (length designator) 1)) (char designator 0))
        ((and (symbolp designator) (= (length (symbol-name designator)) 1))
         (char (symbol-name designator) 0))
        (t (error 'type-error :datum designator :expected-type 'character))))

(defparameter *%char-names*
  '((0 . "Nul") (7 . "Bel") (8 . "Backspace") (9 . "Tab") (10 . "Newline") (12 . "Page")
    (13 . "Return") (27 . "Esc") (32 . "Space") (127 . "Rubout")))

(defun char-name (char)
  (cdr (assoc (char-code char) *%char-names*)))

(defun name-char (name)
  (let ((hit (find (string name) *%char-names* :key #'cdr :test #'string-equal)))
    (cond (hit (code-char (car hit)))
          ((string-equal (string name) "Linefeed") (code-char 10))
          (t nil))))

(defun string-greaterp (a b &rest options)
  (apply #'string> (string-downcase (string a)) (string-downcase (string b)) options))
(defun string-not-greaterp (a b &rest options)
  (apply #'string<= (string-downcase (string a)) (string-downcase (string b)) options))
(defun string-not-lessp (a b &rest options)
  (apply #'string>= (string-downcase (string a)) (string-downcase (string b)) options))
(defun string-not-equal (a b &rest options)
  (apply #'string/= (string-downcase (string a)) (string-downcase (string b)) options))
(defun simple-string-p (object) (stringp object))

;;; Symbols and functions

(defun copy-symbol (symbol &optional copy-properties)
  (let ((new (make-symbol (symbol-name symbol))))
    (when copy-properties
      (when (boundp symbol) (setf (symbol-value new) (symbol-value symbol)))
      (setf (symbol-plist new) (copy-list (symbol-plist symbol))))
    new))

(defun compiled-function-p (object) (functionp object))
(defun function-lambda-expression (function)
  (declare (ignore function))
  (values nil t nil))

;;; Arrays (vectors: rank 1)

(defun array-rank (array) (declare (ignore array)) 1)
(defun array-dimensions (array) (list (array-total-size array)))
(defun array-dimension (array axis)
  (if (eql axis 0) (array-total-size array) (error "array-dimension: axis ~a of a vector" axis)))
(defun array-total-size (array) (length (coerce array 'vector)))
(defun array-in-bounds-p (array &rest subscripts)
  (and (= (length subscripts) 1) (< -1 (first subscripts) (array-total-size array))))
(defun array-row-major-index (array &rest subscripts)
  (declare (ignore array))
  (first subscripts))
(defun row-major-aref (array index) (aref array index))
(defun array-element-type (array) (if (stringp array) 'character t))
(defun upgraded-array-element-type (type &optional environment)
  (declare (ignore environment))
  (if (member type '(character base-char standard-char)) 'character t))
(defun array-displacement (array) (declare (ignore array)) (values nil 0))
(defun bit-vector-p (object) (declare (ignore object)) nil)
(defun simple-bit-vector-p (object) (declare (ignore object)) nil)

;;; The environment

(defun lisp-implementation-type () "Whistler Lisp")
(defun lisp-implementation-version () "0.1")
(defun software-type () "Linux")
(defun software-version () nil)
(defun machine-type () "X86-64")
(defun machine-version () nil)
(defun short-site-name () nil)
(defun long-site-name () nil)

(defun y-or-n-p (&optional control &rest args)
  (when control (apply #'format *query-io* control args) (format *query-io* " (y or n) "))
  (let ((answer (read-line *standard-input* nil "")))
    (char-equal (char (concatenate 'string answer "n") 0) #\y)))

(defun yes-or-no-p (&optional control &rest args)
  (when control (apply #'format *query-io* control args) (format *query-io* " (yes or no) "))
  (string-equal (string-trim " " (read-line *standard-input* nil "")) "yes"))

;;; Variables of the environment, the reader and the REPL

(defvar *features* '(:whistler :common-lisp :linux :64-bit))
(defvar *modules* nil)
(defvar *gensym-counter* 0)
(defvar *macroexpand-hook* 'funcall)
(defvar *read-base* 10)
(defvar *read-eval* t)
(defvar *read-suppress* nil)
(defvar *read-default-float-format* 'double-float)
(defvar *load-pathname* nil)
(defvar *load-truename* nil)
(defvar *load-print* nil)
(defvar *load-verbose* nil)
(defvar *compile-file-pathname* nil)
(defvar *compile-file-truename* nil)
(defvar *compile-print* nil)
(defvar *compile-verbose* nil)
(defvar * nil)
(defvar ** nil)
(defvar *** nil)
(defvar + nil)
(defvar ++ nil)
(defvar +++ nil)
(defvar / nil)
(defvar // nil)
(defvar /// nil)
(defvar - nil)
(defconstant lambda-list-keywords
  '(&optional &rest &key &allow-other-keys &aux &body &whole &environment))

(defun gentemp (&optional (prefix "T") package)
  (declare (ignore package))
  (intern (format nil "~a~d" prefix (incf *gensym-counter*))))

(defun load (path &key verbose print (if-does-not-exist t) external-format)
  (declare (ignore verbose print external-format))
  (with-open-file (in path :if-does-not-exist (if if-does-not-exist :error nil))
    (when in
      (let ((*load-pathname* path) (*load-truename* (truename path)) (eof '#:eof))
        (loop for form = (read in nil eof)
              until (eq form eof)
              do (eval form))
        t))))

(defun provide (name) (pushnew (string name) *modules* :test #'string=) t)
(defun require (name &optional paths)
  (declare (ignore paths))
  (unless (member (string name) *modules* :test #'string=)
    (error "require: module ~a is not available" name)))

(defun complex (realpart &optional (imagpart 0))
  (if (and (rationalp imagpart) (zerop imagpart))
      realpart
      (error "complex numbers are not supported: (complex ~a ~a)" realpart imagpart)))
(defun upgraded-complex-part-type (type &optional environment)
  (declare (ignore environment))
  type)

(defmacro step (form) form)

(defun pathname-match-p (path wildcard)
  (labels ((match (p w)
             (cond ((zerop (length w)) (zerop (length p)))
                   ((char= (char w 0) #\*)
                    (loop for i from 0 to (length p)
                          thereis (match (subseq p i) (subseq w 1))))
                   ((zerop (length p)) nil)
                   (t (and (char= (char p 0) (char w 0))
                           (match (subseq p 1) (subseq w 1)))))))
    (match (namestring path) (namestring wildcard))))

(defmacro print-unreadable-object ((object stream &key type identity) &body body)
  (declare (ignore identity))
  `(progn
     (write-string "#<" ,stream)
     ,@(when type `((princ (type-of ,object) ,stream) (write-string " " ,stream)))
     ,@body
     (write-string ">" ,stream)
     nil))

(defun read-delimited-list (char &optional (stream *standard-input*) recursive-p)
  (declare (ignore recursive-p))
  (loop for next = (peek-char t stream)
        until (char= next char)
        collect (read stream)
        finally (read-char stream)))

(defun adjustable-array-p (array) (vectorp array))
(defun array-has-fill-pointer-p (array) (vectorp array))
(defun (setf fill-pointer) (n vector) (%set-fill-pointer n vector))
(defun hash-table-size (table) (max 16 (hash-table-count table)))
(defun hash-table-rehash-size (table) (declare (ignore table)) 1.5)
(defun hash-table-rehash-threshold (table) (declare (ignore table)) 1.0)
