/*
 * filewrapper.c: the wsgi.file_wrapper type (PEP 3333 "Optional
 * Platform-Specific File Handling").
 *
 * The object remembers the file-like object and block size, iterates it in
 * blocks when it has to, and closes it.  Sending a real file through
 * Apache's file buckets (sendfile) is output.c's job; it asks here for
 * the file-like object.
 */
#include "wsl.h"

typedef struct {
    PyObject_HEAD
    PyObject *filelike;
    Py_ssize_t blksize;
} wsl_py_file_wrapper;

static PyObject *file_wrapper_new(PyTypeObject *type, PyObject *args,
                                  PyObject *kwds)
{
    static char *kwlist[] = { "filelike", "blksize", NULL };
    PyObject *filelike;
    Py_ssize_t blksize = 8192;
    wsl_py_file_wrapper *self;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|n:file_wrapper", kwlist,
                                     &filelike, &blksize))
        return NULL;
    if (blksize <= 0) {
        PyErr_SetString(PyExc_ValueError, "blksize must be positive");
        return NULL;
    }
    if (!(self = (wsl_py_file_wrapper *)type->tp_alloc(type, 0)))
        return NULL;
    Py_INCREF(filelike);
    self->filelike = filelike;
    self->blksize = blksize;
    return (PyObject *)self;
}

static void file_wrapper_dealloc(wsl_py_file_wrapper *self)
{
    Py_XDECREF(self->filelike);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *file_wrapper_iternext(wsl_py_file_wrapper *self)
{
    PyObject *data = PyObject_CallMethod(self->filelike, "read", "n",
                                         self->blksize);

    if (!data)
        return NULL;
    if (PyBytes_Check(data) && PyBytes_GET_SIZE(data) == 0) {
        Py_DECREF(data);
        return NULL;    /* StopIteration */
    }
    return data;
}

static PyObject *file_wrapper_close(wsl_py_file_wrapper *self,
                                    PyObject *unused)
{
    if (PyObject_HasAttrString(self->filelike, "close"))
        return PyObject_CallMethod(self->filelike, "close", NULL);
    Py_RETURN_NONE;
}

static PyMethodDef file_wrapper_methods[] = {
    { "close", (PyCFunction)file_wrapper_close, METH_NOARGS,
      "Close the wrapped file." },
    { NULL }
};

PyTypeObject wsl_py_file_wrapper_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mod_wsgi_lite.FileWrapper",
    .tp_basicsize = sizeof(wsl_py_file_wrapper),
    .tp_dealloc = (destructor)file_wrapper_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "wsgi.file_wrapper(filelike, blksize=8192)",
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)file_wrapper_iternext,
    .tp_methods = file_wrapper_methods,
    .tp_new = file_wrapper_new,
};

PyObject *wsl_file_wrapper_filelike(PyObject *wrapper)
{
    return ((wsl_py_file_wrapper *)wrapper)->filelike;
}
