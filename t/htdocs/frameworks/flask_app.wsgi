# A small Flask app (Debian's python3-flask), mounted at /flask.
from flask import Flask, jsonify, request, url_for

app = Flask(__name__)


@app.route('/')
def index():
    return 'flask index'


@app.route('/hello/<name>')
def hello(name):
    return 'Hello, %s!' % name


@app.route('/link')
def link():
    return url_for('hello', name='wsgi')


@app.route('/form', methods=['POST'])
def form():
    return 'form a=%s b=%s' % (request.form['a'], request.form['b'])


@app.route('/json', methods=['POST'])
def json_double():
    return jsonify(doubled=request.get_json()['x'] * 2)


@app.route('/query')
def query():
    return jsonify(args=request.args.to_dict(flat=False))


application = app
